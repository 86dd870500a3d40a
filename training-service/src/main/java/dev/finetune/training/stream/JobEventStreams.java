package dev.finetune.training.stream;

import dev.finetune.events.TrainingEvent;
import dev.finetune.events.TrainingEventKind;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobStore;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Live event streams of jobs, for {@code GET /api/jobs/{id}/events/stream}. Every instance of the
 * service reads all of {@code training.events} from the live end (a consumer group of its own,
 * {@link LiveTrainingEvents}) and fans each event out to the clients connected here that follow its
 * job. A client first gets the stored events after its {@code Last-Event-ID} from the job's event log,
 * then the live ones; whatever the live feed has not delivered (a gap in the sequence: events sent
 * before this instance's consumer was assigned, or while the broker was away) is read from the log
 * before the event that reveals it, and every {@link #KEEP_ALIVE} the log is read for anything the
 * feed has not brought at all. So a client sees each event once, in sequence order, without gaps;
 * its stream ends after the job's terminal state event.
 */
@ApplicationScoped
public class JobEventStreams {
    private static final Logger LOG = Logger.getLogger(JobEventStreams.class);
    /** A comment this often keeps proxies (which commonly cut connections idle for 30-60 s) from closing it. */
    static final Duration KEEP_ALIVE = Duration.ofSeconds(10);
    /** Events read from the log per request while catching a client up. */
    private static final int LOG_PAGE = 500;

    private final JobStore jobs;
    private final Map<String, Set<Client>> clients = new ConcurrentHashMap<>();
    private final ScheduledExecutorService executor = Executors.newScheduledThreadPool(2, task -> {
        Thread thread = new Thread(task, "job-event-streams");
        thread.setDaemon(true);
        return thread;
    });

    JobEventStreams(JobStore jobs) {
        this.jobs = jobs;
        executor.scheduleWithFixedDelay(
                this::keepAlive, KEEP_ALIVE.toMillis(), KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent shutdown) {
        executor.shutdownNow();
        clients.values().forEach(set -> set.forEach(Client::complete));
    }

    /** The stream of job {@code jobId}'s events after sequence {@code after}, as SSE events. */
    public Multi<OutboundSseEvent> open(String jobId, long after, Sse sse) {
        return Multi.createFrom().emitter(emitter -> {
            Client client = new Client(jobId, after, emitter, sse);
            clients.computeIfAbsent(jobId, id -> ConcurrentHashMap.newKeySet()).add(client);
            emitter.onTermination(() -> remove(client));
            // Subscribed first, replayed second: a live event that arrives meanwhile waits for the
            // replay (the client's lock) and is then dropped as seen, or shown after it.
            executor.execute(client::catchUp);
        });
    }

    /** An event from {@code training.events}: to each client that follows its job. */
    void onLive(TrainingEvent event) {
        Set<Client> following = clients.get(event.jobId());
        if (following != null) {
            for (Client client : following) {
                client.deliver(event);
            }
        }
    }

    /** Clients connected now, for tests and logs. */
    int connected() {
        return clients.values().stream().mapToInt(Set::size).sum();
    }

    private void keepAlive() {
        for (Set<Client> set : clients.values()) {
            for (Client client : set) {
                client.keepAlive();
            }
        }
    }

    private void remove(Client client) {
        clients.computeIfPresent(client.jobId, (id, set) -> {
            set.remove(client);
            return set.isEmpty() ? null : set;
        });
    }

    /** One connected client: what it has been sent, and its emitter. Calls are serialised by its lock. */
    private final class Client {
        private final String jobId;
        private final MultiEmitter<? super OutboundSseEvent> emitter;
        private final Sse sse;
        private long lastSent;
        private boolean done;

        Client(String jobId, long after, MultiEmitter<? super OutboundSseEvent> emitter, Sse sse) {
            this.jobId = jobId;
            this.lastSent = after;
            this.emitter = emitter;
            this.sse = sse;
        }

        synchronized void deliver(TrainingEvent event) {
            if (done || event.sequence() <= lastSent) {
                return; // replayed from the log already, or a duplicate delivery
            }
            if (event.sequence() > lastSent + 1) {
                readLog(event.sequence() - 1); // the feed skipped some: the log has them
            }
            send(event);
        }

        /** Everything the log has after what was sent; ends the stream if the job has ended. */
        synchronized void catchUp() {
            try {
                readLog(Long.MAX_VALUE);
                if (!done) {
                    // A job that ended before this client came (or its end not yet in the feed): its
                    // terminal event is in the log, which was read above up to the record's sequence.
                    JobRecord job = jobs.get(jobId).orElse(null);
                    if (job == null || job.state().isTerminal() && lastSent >= job.eventSequence()) {
                        complete();
                    }
                }
            } catch (RuntimeException e) {
                LOG.warnf("job %s: event stream could not read the event log (%s); tries again", jobId, e.getMessage());
            }
        }

        synchronized void keepAlive() {
            if (!done) {
                emitter.emit(sse.newEventBuilder().comment("keep-alive").build());
                catchUp();
            }
        }

        synchronized void complete() {
            if (!done) {
                done = true;
                emitter.complete();
            }
        }

        private void readLog(long upTo) {
            while (!done && lastSent < upTo) {
                List<TrainingEvent> page = jobs.events(jobId, lastSent, LOG_PAGE, TrainingEvent.class);
                for (TrainingEvent event : page) {
                    if (event.sequence() <= upTo) {
                        send(event);
                    }
                }
                if (page.size() < LOG_PAGE) {
                    return;
                }
            }
        }

        private void send(TrainingEvent event) {
            if (done) {
                return;
            }
            emitter.emit(sse.newEventBuilder()
                    .id(Long.toString(event.sequence()))
                    .name(event.kind().code())
                    .mediaType(MediaType.APPLICATION_JSON_TYPE)
                    .data(TrainingEvent.class, event)
                    .build());
            lastSent = event.sequence();
            if (event.kind() == TrainingEventKind.STATE && event.state().isTerminal()) {
                complete();
            }
        }
    }
}
