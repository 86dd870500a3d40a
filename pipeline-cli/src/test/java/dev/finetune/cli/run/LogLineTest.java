package dev.finetune.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A failure report shows JSON log lines as a person reads them. */
class LogLineTest {
    @Test
    void aJsonLineShowsTimeLevelLoggerWorkMessageAndException() {
        String line = "{\"timestamp\":\"2026-12-05T09:12:03.123456Z\",\"sequence\":81,\"loggerClassName\":"
                + "\"org.jboss.logging.Logger\",\"loggerName\":\"dev.finetune.training.worker.JobRunner\","
                + "\"level\":\"ERROR\",\"message\":\"job ds-1 failed\",\"threadName\":\"training-0\","
                + "\"mdc\":{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"job.id\":\"ds-1\","
                + "\"dataset.name\":\"support\"},\"exception\":{\"exceptionType\":"
                + "\"java.lang.IllegalStateException\",\"message\":\"no tokenizer.json\"}}";

        assertThat(LogLine.readable(line))
                .isEqualTo("09:12:03.123 ERROR [JobRunner] job.id=ds-1 dataset.name=support job ds-1 failed"
                        + " | java.lang.IllegalStateException: no tokenizer.json");
    }

    @Test
    void anythingElseIsKeptAsItIs() {
        assertThat(LogLine.readable("Exception in thread \"main\" java.lang.OutOfMemoryError"))
                .isEqualTo("Exception in thread \"main\" java.lang.OutOfMemoryError");
        assertThat(LogLine.readable("{not json")).isEqualTo("{not json");
    }
}
