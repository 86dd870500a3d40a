package dev.finetune.console.pages;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
import dev.finetune.console.services.SseReader;
import dev.finetune.console.session.Session;
import dev.finetune.console.session.SessionCookie;
import dev.finetune.console.session.Sessions;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.subscription.MultiEmitter;
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
import java.io.IOException;
import java.io.InputStream;
import org.jboss.logging.Logger;

/**
 * A job's event stream for the browser: the console opens the training-service's stream with the
 * session's key and passes each event on as it is (id, kind, JSON), so the key never reaches the
 * page. Each open stream holds one worker thread while it lasts; it ends when the job's stream ends
 * (after its terminal state) or when the browser goes away (the upstream is closed at once).
 *
 * <p>The events are a {@link Multi} that RESTEasy Reactive writes and ends, not an {@code
 * SseEventSink} the method fills and closes itself: RESTEasy sends the SSE response's head after the
 * method returns, so a sink closed inside the method (a finished job's stream ends at once) had its
 * response ended before that, and every such stream logged "Response has already been written".
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

    /**
     * The stream, opened here so that no session, a refused key or a service that is down is answered
     * as any page is (sign-in, the error page) before the first event.
     */
    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Blocking
    public Multi<OutboundSseEvent> stream(
            @CookieParam(SessionCookie.NAME) String id,
            @PathParam("job") String jobId,
            @HeaderParam("Last-Event-ID") String lastEventId,
            @Context Sse sse) {
        Session session = sessions.require(id);
        String path = "/api/jobs/" + JobsPage.encoded(jobId) + "/events/stream";
        InputStream upstream = services.stream(Service.TRAINING, path, session.apiKey(), lastEventId);
        return Multi.createFrom()
                .<OutboundSseEvent>emitter(emitter -> passOn(upstream, emitter, sse, jobId))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    /** Reads the upstream's events into the browser's stream until either ends (on a worker thread). */
    private static void passOn(
            InputStream upstream, MultiEmitter<? super OutboundSseEvent> emitter, Sse sse, String jobId) {
        emitter.onTermination(() -> close(upstream, jobId)); // the browser left: unblocks the read below
        try {
            SseReader reader = new SseReader(upstream);
            SseReader.Event event;
            while (!emitter.isCancelled() && (event = reader.next()) != null) {
                emitter.emit(outbound(sse, event));
            }
        } catch (IOException e) {
            // The browser left (the upstream was closed under the read), or the training-service went
            // away: either way this stream is over; a browser still there reconnects with Last-Event-ID.
            LOG.debugf("stream of job %s ended: %s", jobId, e.toString());
        }
        emitter.complete();
    }

    private static void close(InputStream upstream, String jobId) {
        try {
            upstream.close();
        } catch (IOException e) {
            LOG.debugf("closing the training-service's stream of job %s: %s", jobId, e.toString());
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
