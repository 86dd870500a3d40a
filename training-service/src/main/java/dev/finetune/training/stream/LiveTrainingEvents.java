package dev.finetune.training.stream;

import dev.finetune.events.TrainingEvent;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Reads {@code training.events} from the live end, in a consumer group of this instance's own (so
 * every instance sees every job's events), for the clients of {@link JobEventStreams}. Nothing is
 * committed or retried: a stream that misses an event reads it from the job's log.
 */
@ApplicationScoped
public class LiveTrainingEvents {
    private final JobEventStreams streams;

    LiveTrainingEvents(JobEventStreams streams) {
        this.streams = streams;
    }

    @Incoming("training-events-live")
    @io.smallrye.reactive.messaging.annotations.Blocking("job-event-streams")
    public void onEvent(TrainingEvent event) {
        streams.onLive(event); // may read the job's log to fill a gap: off the event loop
    }
}
