package dev.finetune.llm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PrecisionBenchmarkTest {
    @Test
    void rateIsMedianThenSlowestToFastestInGflops() {
        double flop = PrecisionBenchmark.FLOP_PER_MATMUL * 10; // 21.47 GFLOP a run
        Samples runs = new Samples(new double[] {flop / 200e9, flop / 100e9, flop / 150e9});

        PrecisionBenchmark.MatmulRate rate = new PrecisionBenchmark.MatmulRate(runs, 10, 1e-3);

        assertThat(rate.rate()).isEqualTo("150.0 GFLOP/s (100.0 .. 200.0)");
        assertThat(rate.runsByProducts()).isEqualTo("3 x 10");
    }

    @Test
    void anAbortedProbeIsReportedWithItsExitStatusAndLastErrorLine() {
        PrecisionProbe.Outcome aborted = new PrecisionProbe.Outcome(
                134,
                PrecisionProbe.BEFORE + " CAST bfloat16\n",
                "a warning\nterminate called without an active exception\n");

        assertThat(PrecisionBenchmark.describe(aborted))
                .isEqualTo("**JVM aborted** (exit 134): `terminate called without an active exception`");
    }

    @Test
    void aChildThatFailsOtherwiseIsNotCalledAborted() {
        PrecisionProbe.Outcome failed = new PrecisionProbe.Outcome(1, "", "Error: could not find main class\n");

        assertThat(PrecisionBenchmark.describe(failed))
                .isEqualTo("**failed** (exit 1): `Error: could not find main class`");
    }

    @Test
    void aSurvivingProbeThatReadsBackItsValuesIsExact() {
        PrecisionProbe.Outcome exact = new PrecisionProbe.Outcome(
                0, PrecisionProbe.AFTER + " CAST float16 " + Arrays.toString(PrecisionProbe.VALUES) + "\n", "");
        PrecisionProbe.Outcome rounded =
                new PrecisionProbe.Outcome(0, PrecisionProbe.AFTER + " CAST float16 [1.5, -2.25, 3.14]\n", "");

        assertThat(PrecisionBenchmark.describe(exact)).isEqualTo("works (exact)");
        assertThat(PrecisionBenchmark.describe(rounded)).isEqualTo("works, values changed");
    }
}
