package dev.finetune.llm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {
    @Test
    void warmupRisesLinearlyFromZeroToThePeakForEveryShape() {
        for (ScheduleType type : ScheduleType.values()) {
            LearningRateSchedule schedule = new LearningRateSchedule(type, 2e-4, 4, 20);
            assertThat(schedule.rate(0)).as(type.configName()).isZero();
            assertThat(schedule.rate(1)).isCloseTo(0.5e-4, within(1e-12));
            assertThat(schedule.rate(2)).isCloseTo(1e-4, within(1e-12));
            assertThat(schedule.rate(4)).isCloseTo(2e-4, within(1e-12));
        }
    }

    @Test
    void linearDecaysToZeroAtTheLastStepAndConstantStaysAtThePeak() {
        LearningRateSchedule linear = new LearningRateSchedule(ScheduleType.LINEAR, 1.0, 2, 12);
        assertThat(linear.rate(7)).isCloseTo(0.5, within(1e-12)); // halfway through the 10 decay steps
        assertThat(linear.rate(11)).isCloseTo(0.1, within(1e-12));
        assertThat(linear.rate(12)).isZero();
        LearningRateSchedule constant = new LearningRateSchedule(ScheduleType.CONSTANT, 1.0, 2, 12);
        assertThat(constant.rate(11)).isEqualTo(1.0);
    }

    @Test
    void cosineIsHalfThePeakHalfwayAndZeroAtTheEnd() {
        LearningRateSchedule cosine = new LearningRateSchedule(ScheduleType.COSINE, 1.0, 0, 10);
        assertThat(cosine.rate(0)).isEqualTo(1.0);
        assertThat(cosine.rate(5)).isCloseTo(0.5, within(1e-12));
        assertThat(cosine.rate(10)).isCloseTo(0, within(1e-12));
        assertThat(cosine.rate(3)).isGreaterThan(cosine.rate(4));
    }

    @Test
    void badValuesAreNamed() {
        assertThatThrownBy(() -> new LearningRateSchedule(ScheduleType.LINEAR, -1, 0, 10))
                .hasMessage("learning_rate must be > 0, got -1.0");
        assertThatThrownBy(() -> ScheduleType.parse("triangle"))
                .hasMessage("lr_scheduler_type must be one of constant, linear, cosine, got \"triangle\"");
        assertThat(ScheduleType.parse("constant_with_warmup")).isEqualTo(ScheduleType.CONSTANT);
    }
}
