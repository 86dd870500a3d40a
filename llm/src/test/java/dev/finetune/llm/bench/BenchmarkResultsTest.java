package dev.finetune.llm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.llm.inference.DraftTally;
import dev.finetune.llm.inference.TokenListener;
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
                // batch 1: 64 tokens in 0.5 s, the first after 0.0275 s: 63 tokens in 0.4725 s
                new GenerationTimes(
                        1, new Samples(new double[] {0.5, 0.4, 0.6}), new Samples(new double[] {0.0275, 0.02, 0.03})),
                // batch 1 op by op: 64 tokens in 0.75 s, the first after 0.0275 s: 63 tokens in 0.7225 s
                new GenerationTimes(
                        1, new Samples(new double[] {0.75, 0.7, 0.8}), new Samples(new double[] {0.0275, 0.02, 0.03})),
                // batch 16: 1024 tokens in 1 s (8x batch 1)
                new GenerationTimes(
                        16, new Samples(new double[] {1.0, 0.9, 1.2}), new Samples(new double[] {0.1, 0.1, 0.1})),
                // batch 16 op by op: 1024 tokens in 1.25 s
                new GenerationTimes(
                        16, new Samples(new double[] {1.25, 1.2, 1.3}), new Samples(new double[] {0.1, 0.1, 0.1})),
                // batch 16 unpacked: 1024 tokens in 1.6 s
                new GenerationTimes(
                        16, new Samples(new double[] {1.6, 1.5, 1.7}), new Samples(new double[] {0.1, 0.1, 0.1})),
                // 4 x 8 samples: 2048 tokens in 1.6 s (10x batch 1)
                new GenerationTimes(
                        32, new Samples(new double[] {1.6, 1.6, 1.6}), new Samples(new double[] {0.2, 0.2, 0.2})),
                // batch 1 with prompt lookup: 64 tokens in 0.25 s (2x), the first after 0.0275 s
                new GenerationTimes(
                        1, new Samples(new double[] {0.25, 0.2, 0.3}), new Samples(new double[] {0.0275, 0.02, 0.03})),
                drafts(),
                // a decoding step 7.5 ms, a pass over 1 + 1 tokens 9 ms, over 1 + 10 tokens 15 ms
                new PassCost(
                        new Samples(new double[] {0.0075, 0.007, 0.008}),
                        new Samples(new double[] {0.009}),
                        new Samples(new double[] {0.015})),
                new Samples(new double[] {2.0, 1.6, 1.8}),
                // the linears alone: 0.1 s for 64 tokens, 1.5625 ms a token, of 7.5 ms a decoding step
                new Samples(new double[] {0.1, 0.1, 0.1}),
                new Samples(new double[] {matmulSeconds, matmulSeconds * 2, matmulSeconds / 2}));
    }

    /** 64 tokens, 40 of them from 50 draft tokens over 8 checks: 23 passes after the first token. */
    private static DraftTally drafts() {
        DraftTally counts = new DraftTally(TokenListener.NONE);
        for (int check = 0; check < 8; check++) {
            counts.onDraftChecked(0, check < 2 ? 10 : 5, 5);
        }
        for (int token = 0; token < 64; token++) {
            counts.onToken(0, token, 7);
        }
        return counts;
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
                .contains("| Generation, batch 1 | 128 tokens/s | 107 .. 160 | 1 prompt, greedy; prompts of 32 tokens,")
                .contains("| Decoding, batch 1 | 133 tokens/s |  | the same calls after their first token |")
                .contains("| Generation, batch 1, op by op | 85.3 tokens/s | 80.0 .. 91.4 | the same prompt, decoding"
                        + " steps run op by op through DJL instead of as one compiled call"
                        + " (`CausalLm.setCompiledDecoding(false)`); decoding 87.2 tokens/s: compiled decodes 1.53x"
                        + " faster |")
                .contains("| Generation, batch 16, op by op | 819 tokens/s | 788 .. 853 | the same prompts, decoding"
                        + " op by op; compiled generates 1.25x faster |")
                .contains("| Generation, batch 16, products unpacked | 640 tokens/s | 602 .. 683 | the same prompts,"
                        + " compiled, the products on the weights as they are instead of copies packed for 16 rows"
                        + " (`CausalLm.setPackedProducts(false)`); 5.0x batch 1's tokens/s; packed generates 1.60x"
                        + " faster |")
                .contains("| Time to first token, batch 1 | 27.5 ms | 30.0 .. 20.0 ms |")
                .contains("| Generation, batch 1, prompt lookup | 256 tokens/s | 213 .. 320 | the same prompt,"
                        + " `promptLookupTokens` 10: the same tokens, 40 of them from kept drafts (40 of 50 draft"
                        + " tokens kept over 8 checks), 23 decoding passes instead of 63; 2.00x plain batch 1 |")
                .contains(
                        "| Decoding, batch 1, prompt lookup | 283 tokens/s |  | the same calls after their first token;"
                                + " 2.12x plain batch 1 |")
                .contains("| A speculative pass whose draft is rejected | 1.20x a decoding step | 9.00 ms against 7.50"
                        + " ms; with 10 draft tokens 2.00x (15.00 ms) | one pass over the last token and one draft")
                .contains("| Generation, batch 16 | 1,024 tokens/s | 853 .. 1,138 | 16 prompts, greedy;")
                .contains("8.0x batch 1's tokens/s")
                .contains("| Decoding, batch 16 | 1,120 tokens/s |  | the same calls after their first token (100.0"
                        + " ms: 16 prompts processed); 8.4x batch 1's decoding |")
                .contains("| Generation, 4 prompts x 8 samples | 1,280 tokens/s |")
                .contains("share its prefill; prompts of 32 tokens, 64 new tokens each; 10.0x batch 1's tokens/s")
                .contains("| Generation without KV cache | 35.6 tokens/s | 32.0 .. 40.0 |")
                .contains("| Decoding time outside the linear layers' matmuls, batch 1 | 79% |  |")
                .contains("1.56 ms per token, of 7.50 ms per decoding step")
                .contains("| fp32 matmul (DJL) | 100.0 GFLOP/s | 50.0 .. 200.0 |")
                .contains("| Model FLOPs utilisation (MFU) | 70% |  | forward model FLOP/s / matmul FLOP/s")
                .contains("counting all 20,000,000 parameters (2 x params x tokens): 82%")
                .contains("Measured 2026-11-23 10:00 UTC on: test machine.")
                .contains("median of 3 runs after 2 warm-up runs")
                .contains("hidden 384, 8 layers, 6 query / 2 key-value heads of dim 64, MLP 1152, vocabulary 8192");
    }
}
