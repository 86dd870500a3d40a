package dev.finetune.llm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.types.DataType;
import dev.finetune.llm.bench.PrecisionProbe.Outcome;
import dev.finetune.llm.bench.PrecisionProbe.Way;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Documents the engine's bf16 hazard (docs/benchmarks.md, "Precision on this CPU"): with DJL 0.35.1
 * any BFLOAT16 array aborts the JVM. Each probe runs in a child JVM, so the abort is observed, not
 * suffered. If a DJL upgrade makes bf16 work, these tests fail: then bf16 can be offered (issue 13,
 * item 10) and the document and these tests must say so.
 */
class PrecisionProbeTest {

    private static final String TERMINATE = "terminate called without an active exception";

    @Test
    void castingToBfloat16AbortsTheJvm() throws Exception {
        Outcome outcome = PrecisionProbe.inChildJvm(Way.CAST, DataType.BFLOAT16);

        assertAbortedInTheCall(outcome, "CAST");
    }

    @Test
    void creatingABfloat16ArrayFromItsBitsAbortsTheJvm() throws Exception {
        Outcome outcome = PrecisionProbe.inChildJvm(Way.CREATE, DataType.BFLOAT16);

        assertAbortedInTheCall(outcome, "CREATE");
    }

    /** The same harness with fp16 survives: the bf16 deaths are the type's, not the probe's. */
    @Test
    void float16CastAndCreateSurviveAndReadBackExactly() throws Exception {
        for (Way way : Way.values()) {
            Outcome outcome = PrecisionProbe.inChildJvm(way, DataType.FLOAT16);

            assertThat(outcome.survived()).as("%s float16: %s", way, outcome).isTrue();
            assertThat(outcome.stdout())
                    .contains(PrecisionProbe.AFTER + " " + way + " float16 " + Arrays.toString(PrecisionProbe.VALUES));
        }
    }

    private static void assertAbortedInTheCall(Outcome outcome, String way) {
        assertThat(outcome.exitStatus())
                .as("exit status; stdout: %s stderr: %s", outcome.stdout(), outcome.stderr())
                .isEqualTo(PrecisionProbe.ABORTED);
        assertThat(outcome.stderr()).contains(TERMINATE);
        assertThat(outcome.stdout())
                .contains(PrecisionProbe.BEFORE + " " + way + " bfloat16")
                .doesNotContain(PrecisionProbe.AFTER);
    }
}
