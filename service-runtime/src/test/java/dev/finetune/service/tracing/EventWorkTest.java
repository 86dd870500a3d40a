package dev.finetune.service.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EventCatalog;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.events.PipelineEvent;
import java.time.Instant;
import org.jboss.logging.MDC;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Every event names the work it is about. */
class EventWorkTest {
    @AfterEach
    void clearMdc() {
        MDC.clear();
    }

    @Test
    void aCheckpointIsAboutItsJobDatasetModelMethodAndObjective() {
        CheckpointCreated checkpoint = new CheckpointCreated(
                "job-9",
                4,
                8,
                "checkpoints/job-9/step-4/",
                "tiny-chat",
                "support",
                "2",
                FineTuneMethod.QLORA,
                Objective.DPO,
                null,
                null,
                null,
                false,
                Instant.EPOCH);
        try (WorkContext ignored = EventWork.of(checkpoint).open()) {
            assertThat(WorkContext.current(WorkContext.JOB_ID)).hasValue("job-9");
            assertThat(WorkContext.current(WorkContext.DATASET_NAME)).hasValue("support");
            assertThat(WorkContext.current(WorkContext.DATASET_VERSION)).hasValue("2");
            assertThat(WorkContext.current(WorkContext.MODEL_BASE)).hasValue("tiny-chat");
            assertThat(WorkContext.current(WorkContext.METHOD)).hasValue("qlora");
            assertThat(WorkContext.current(WorkContext.OBJECTIVE)).hasValue("dpo");
        }
    }

    @Test
    void everyEventTypeOfTheCatalogHasAWorkContext() throws Exception {
        for (EventCatalog.Entry entry : EventCatalog.ALL) {
            Class<? extends PipelineEvent> type = entry.recordType();
            var components = type.getRecordComponents();
            Object[] nulls = new Object[components.length];
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                types[i] = components[i].getType();
                nulls[i] = defaultValue(types[i]);
            }
            PipelineEvent event = type.getDeclaredConstructor(types).newInstance(nulls);
            assertThatCode(() -> EventWork.of(event).open().close())
                    .as(type.getSimpleName())
                    .doesNotThrowAnyException();
        }
    }

    private static Object defaultValue(Class<?> type) {
        if (type == long.class) {
            return 0L;
        } else if (type == int.class) {
            return 0;
        } else if (type == double.class) {
            return 0.0;
        } else if (type == boolean.class) {
            return false;
        }
        return null;
    }
}
