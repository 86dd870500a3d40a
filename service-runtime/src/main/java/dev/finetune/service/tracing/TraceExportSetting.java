package dev.finetune.service.tracing;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.Config;

/**
 * Tracing is always on (trace ids in every log line, context carried through Kafka); exporting
 * spans is on only when an OTLP endpoint is configured ({@code OTEL_EXPORTER_OTLP_ENDPOINT}). Without
 * one, the exporter would log a connection-refused warning for every batch it cannot deliver to a
 * collector that does not exist; we say once that export is off and keep the exporter quiet. With an
 * endpoint, export failures are logged as usual, because then they mean something.
 */
@ApplicationScoped
public class TraceExportSetting {
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(TraceExportSetting.class);
    private static final List<String> EXPORTER_CATEGORIES =
            List.of("io.quarkus.opentelemetry.runtime.exporter.otlp", "io.opentelemetry.exporter");

    /** Held so the log manager does not drop the level we set along with an unreferenced logger. */
    private final List<Logger> quieted = new java.util.ArrayList<>();

    void onStart(@Observes StartupEvent event, Config config) {
        boolean configured = config.getOptionalValue("quarkus.otel.exporter.otlp.endpoint", String.class)
                        .isPresent()
                || config.getOptionalValue("quarkus.otel.exporter.otlp.traces.endpoint", String.class)
                        .isPresent();
        if (configured) {
            return;
        }
        for (String category : EXPORTER_CATEGORIES) {
            Logger logger = Logger.getLogger(category);
            logger.setLevel(Level.SEVERE);
            quieted.add(logger);
        }
        LOG.info("No OTLP endpoint configured (OTEL_EXPORTER_OTLP_ENDPOINT): spans are not exported; "
                + "trace ids still appear in the logs and travel with every event.");
    }
}
