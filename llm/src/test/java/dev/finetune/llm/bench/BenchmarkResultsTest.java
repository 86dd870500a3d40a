package dev.finetune.llm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BenchmarkResultsTest {
    /** 1024 x 1024 matmuls, 10 per run: 21.47 GFLOP per run. */
    private static final double MATMUL_FLOPS = 2.0 * 1024 * 1024 * 1024 * 10;

    private static BenchmarkResults results(double forwardSeconds, double matmulSeconds) {
        return new BenchmarkResults(
                "2026-11-23 10:00 UTC",
                "test machine",
                InferenceBenchmark.modelConfig(),
                2,
                3,
                20_000_000,
                17_000_000,
                new Samples(new double[] {forwardSeconds * 1.1, forwardSeconds, forwardSeconds * 0.9}),
                new Samples(new double[] {0.5, 0.4, 0.6}),
                new Samples(new double[] {2.0, 1.6, 1.8}),
                new Samples(new double[] {matmulSeconds, matmulSeconds * 2, matmulSeconds / 2}));
    }

    @Test
    void utilisationIsTheForwardModelFlopRateOverTheMatmulRate() {
        BenchmarkResults r = results(0.5, MATMUL_FLOPS / 100e9); // matmul at 100 GFLOP/s

        double forwardFlops = 2.0 * 17_000_000 * 4 * 256; // 2 x weights x tokens
        assertThat(r.peakFlopsPerSecond()).isCloseTo(100e9, within(1e3));
        assertThat(r.utilisation(17_000_000)).isCloseTo(forwardFlops / 0.5 / 100e9, within(1e-12));
        assertThat(r.utilisation(20_000_000)).isCloseTo(2.0 * 20_000_000 * 1024 / 0.5 / 100e9, within(1e-12));
    }

    @Test
    void tableReportsMediansRangesAndTheWorkloads() {
        String md = results(0.5, MATMUL_FLOPS / 100e9).toMarkdown();

        assertThat(md)
                .contains("| Forward pass | 2,048 tokens/s | 1,862 .. 2,276 | batch 4 x 256 tokens")
                .contains("| Generation with KV cache | 128 tokens/s | 107 .. 160 |")
                .contains("| Generation without KV cache | 35.6 tokens/s | 32.0 .. 40.0 |")
                .contains("| fp32 matmul (DJL) | 100.0 GFLOP/s | 50.0 .. 200.0 |")
                .contains("| Model FLOPs utilisation (MFU) | 70% |  | forward model FLOP/s / matmul FLOP/s")
                .contains("counting all 20,000,000 parameters (2 x params x tokens): 82%")
                .contains("Measured 2026-11-23 10:00 UTC on: test machine.")
                .contains("median of 3 runs after 2 warm-up runs")
                .contains("hidden 384, 8 layers, 6 query / 2 key-value heads of dim 64, MLP 1152, vocabulary 8192");
    }
}
