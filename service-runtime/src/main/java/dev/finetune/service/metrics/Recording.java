package dev.finetune.service.metrics;

import org.jboss.logging.Logger;

/**
 * Metrics never fail the work they observe: a registry call that throws (a meter registered
 * elsewhere with other tags, a bug of ours) is logged at debug and the work goes on.
 */
public final class Recording {
    private static final Logger LOG = Logger.getLogger(Recording.class);

    private Recording() {}

    /** Runs {@code recording}, swallowing what it throws. */
    public static void safely(String what, Runnable recording) {
        try {
            recording.run();
        } catch (RuntimeException | LinkageError e) {
            LOG.debugf(e, "metric %s not recorded", what);
        }
    }
}
