package dev.finetune.console.pages;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
import dev.finetune.console.services.SseReader;
import dev.finetune.console.session.Session;
import dev.finetune.console.session.SessionCookie;
import dev.finetune.console.session.Sessions;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletionException;
import org.jboss.logging.Logger;

/**
 * A job's event stream for the browser: the console opens the training-service's stream with the
 * session's key and passes each event on as it is (id, kind, JSON), so the key never reaches the
 * page. Each open stream holds one worker thread while it lasts; it ends when the job's stream ends
 * (after its terminal state) or when the browser goes away (noticed at the next event or keep-alive,
 * at most 10 s later).
 */
@Path("/jobs/{job}/events")
public class JobEventsProxy {
    private static final Logger LOG = Logger.getLogger(JobEventsProxy.class);

    private final Sessions sessions;
    private final ServiceClient services;

    JobEventsProxy(Sessions sessions, ServiceClient services) {
        this.sessions = sessions;
        this.services = services;
    }

    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Blocking
    public void stream(
            @CookieParam(SessionCookie.NAME) String id,
            @PathParam("job") String jobId,
            @HeaderParam("Last-Event-ID") String lastEventId,
            @Context SseEventSink sink,
            @Context Sse sse) {
        Session session = sessions.require(id);
        String path = "/api/jobs/" + JobsPage.encoded(jobId) + "/events/stream";
        try (sink;
                InputStream upstream = services.stream(Service.TRAINING, path, session.apiKey(), lastEventId)) {
            SseReader reader = new SseReader(upstream);
            SseReader.Event event;
            while ((event = reader.next()) != null && !sink.isClosed()) {
                sink.send(outbound(sse, event)).toCompletableFuture().join();
            }
        } catch (IOException | CompletionException e) {
            LOG.debugf("stream of job %s ended: %s", jobId, e.toString()); // the browser left, or the service
        }
    }

    private static OutboundSseEvent outbound(Sse sse, SseReader.Event event) {
        if (event.comment()) {
            return sse.newEventBuilder().comment("keep-alive").build();
        }
        OutboundSseEvent.Builder builder =
                sse.newEventBuilder().data(event.data()).mediaType(MediaType.TEXT_PLAIN_TYPE);
        if (event.id() != null) {
            builder.id(event.id());
        }
        if (event.name() != null) {
            builder.name(event.name());
        }
        return builder.build();
    }
}
