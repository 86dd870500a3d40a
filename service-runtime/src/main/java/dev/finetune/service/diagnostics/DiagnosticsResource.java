package dev.finetune.service.diagnostics;

import dev.finetune.security.Roles;
import io.opentelemetry.api.trace.Span;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** Operator endpoints that check the service's connections from where it runs. */
@Path("/api/diagnostics")
@Produces(MediaType.APPLICATION_JSON)
public class DiagnosticsResource {
    /** A healthy broker answers in milliseconds; ten seconds also covers a consumer still joining its group. */
    private static final Duration ROUND_TRIP_TIMEOUT = Duration.ofSeconds(10);

    private final KafkaRoundTrip roundTrip;

    DiagnosticsResource(KafkaRoundTrip roundTrip) {
        this.roundTrip = roundTrip;
    }

    /**
     * The result of a Kafka round trip.
     *
     * @param topic the topic the probe went through
     * @param roundTripMillis from send to this instance consuming it
     * @param traceId the trace the probe was sent in; its consumer span is in the same trace
     */
    public record RoundTrip(String topic, double roundTripMillis, String traceId) {}

    /** Sends a probe through Kafka and returns once this instance has consumed it (504 if it does not). */
    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Path("/kafka-roundtrip")
    public Uni<RoundTrip> kafkaRoundTrip() {
        String traceId = Span.current().getSpanContext().getTraceId();
        return Uni.createFrom()
                .completionStage(() -> roundTrip.probe(ROUND_TRIP_TIMEOUT))
                .map(nanos -> new RoundTrip(KafkaRoundTrip.TOPIC, nanos / 1e6, traceId))
                .onFailure(TimeoutException.class)
                .transform(timeout -> new WebApplicationException(
                        "no probe came back through " + KafkaRoundTrip.TOPIC + " within "
                                + ROUND_TRIP_TIMEOUT.toSeconds() + " s",
                        Response.Status.GATEWAY_TIMEOUT));
    }
}
