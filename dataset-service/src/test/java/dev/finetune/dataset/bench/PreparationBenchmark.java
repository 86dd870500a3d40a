package dev.finetune.dataset.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.dataset.prepare.DatasetPreparation;
import dev.finetune.dataset.prepare.PreparationResult;
import dev.finetune.dataset.prepare.PreparationSettings;
import dev.finetune.dataset.tokens.ModelTokenCounter;
import dev.finetune.events.DatasetFormat;
import dev.finetune.llm.bench.MarkdownSection;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Benchmark, not a test: preparation throughput on a generated dataset next to the raw throughput
 * of the same tokenizer on the same texts, measured in the same run (the machine is noisy; the
 * ratio is what to compare). Usage: {@code PreparationBenchmark TOKENIZER_DIR [EXAMPLES] [--out FILE]};
 * {@code bin/benchmark-dataset-preparation} runs it with Qwen3's tokenizer.
 */
public final class PreparationBenchmark {
    private static final String[] WORDS = ("the a of to and in is it for on that with as was at by this be from "
                    + "customer order refund account password invoice shipping delivery address payment card "
                    + "subscription cancel upgrade plan billing support ticket error login email phone update "
                    + "please thanks help issue question answer problem request status today tomorrow week "
                    + "network server database backup restore deploy release version feature setting option "
                    + "printer laptop battery screen keyboard warranty repair replace return exchange store")
            .split(" ");

    public static void main(String[] args) throws Exception {
        Path tokenizerDir = Path.of(args[0]);
        int examples = args.length > 1 && !args[1].startsWith("--") ? Integer.parseInt(args[1]) : 100_000;
        Path out = Path.of("docs/benchmarks.md");
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--out")) {
                out = Path.of(args[i + 1]);
            }
        }
        Path work = Files.createTempDirectory("prep-bench");
        Path data = work.resolve("data.jsonl");
        List<String> texts = generate(data, examples);

        try (Tokenizer tokenizer = Tokenizer.load(tokenizerDir)) {
            // Warm-up: JIT, the native library, the tokenizer's caches.
            rawTokens(tokenizer, texts.subList(0, Math.min(texts.size(), 20_000)));
            new DatasetPreparation(settings(), new ModelTokenCounter("warmup", tokenizer))
                    .prepare(Files.newInputStream(data), work.resolve("warm"));

            long t0 = System.nanoTime();
            long raw = rawTokens(tokenizer, texts);
            double rawSeconds = (System.nanoTime() - t0) / 1e9;

            long t1 = System.nanoTime();
            PreparationResult result;
            try (InputStream in = Files.newInputStream(data)) {
                result = new DatasetPreparation(settings(), new ModelTokenCounter("qwen3", tokenizer))
                        .prepare(in, work.resolve("run"));
            }
            double pipelineSeconds = (System.nanoTime() - t1) / 1e9;
            long pipelineTokens = result.statistics().splits().values().stream()
                    .mapToLong(s -> s.tokens())
                    .sum();

            double rawRate = raw / rawSeconds;
            double pipelineRate = pipelineTokens / pipelineSeconds;
            String body = report(
                    examples,
                    Files.size(data),
                    raw,
                    rawSeconds,
                    result,
                    pipelineTokens,
                    pipelineSeconds,
                    rawRate,
                    pipelineRate);
            System.out.println(body);
            new MarkdownSection("dataset-bench").write(out, "Benchmarks", body);
        }
    }

    private static PreparationSettings settings() {
        return PreparationSettings.defaults(DatasetFormat.AUTO);
    }

    /** The raw tokenizer: batch-encode every message content, 256 examples' texts at a time. */
    private static long rawTokens(Tokenizer tokenizer, List<String> texts) {
        long tokens = 0;
        for (int from = 0; from < texts.size(); from += 512) {
            for (int[] ids : tokenizer.encodeBatch(texts.subList(from, Math.min(texts.size(), from + 512)), false)) {
                tokens += ids.length;
            }
        }
        return tokens;
    }

    /** Chat examples of 20-120 words per turn from a support-desk vocabulary; returns every content. */
    private static List<String> generate(Path file, int count) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Random random = new Random(42);
        List<String> texts = new ArrayList<>(count * 2);
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int i = 0; i < count; i++) {
                String user = sentence(random, 20 + random.nextInt(60)) + "? (ticket " + i + ")";
                String assistant = sentence(random, 30 + random.nextInt(90)) + ".";
                texts.add(user);
                texts.add(assistant);
                var line = json.createObjectNode();
                var messages = line.putArray("messages");
                messages.addObject().put("role", "user").put("content", user);
                messages.addObject().put("role", "assistant").put("content", assistant);
                w.write(json.writeValueAsString(line));
                w.write('\n');
            }
        }
        return texts;
    }

    private static String sentence(Random random, int words) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < words; i++) {
            if (i > 0) {
                s.append(' ');
            }
            s.append(WORDS[random.nextInt(WORDS.length)]);
        }
        s.setCharAt(0, Character.toUpperCase(s.charAt(0)));
        return s.toString();
    }

    private static String report(
            int examples,
            long bytes,
            long raw,
            double rawSeconds,
            PreparationResult result,
            long pipelineTokens,
            double pipelineSeconds,
            double rawRate,
            double pipelineRate) {
        return String.format(
                Locale.ROOT,
                """
                ## Dataset preparation (`PreparationBenchmark`)

                Measured %s on %d cores, %s %s. Dataset: %,d generated chat examples (%,.1f MB JSONL, one user and one
                assistant turn of 20-120 words each), Qwen3's tokenizer (151k vocabulary), default preparation settings
                (validation, NFC cleaning, exact + MinHash near-duplicate removal at 0.85, hash split, token statistics).

                | Measurement | Examples/s | Tokens/s | Time |
                |---|---:|---:|---:|
                | Raw tokenizer (batch-encode the same contents) | %,.0f | %,.0f | %.1f s |
                | Full preparation pipeline | %,.0f | %,.0f | %.1f s |
                | Pipeline / raw tokenizer | **%.0f%%** | %.0f%% | |

                Examples/s compares like with like (the same contents are tokenised in both rows); the pipeline's
                tokens/s is higher because it also counts the chat template's tokens per turn: it counted %,d tokens,
                the raw run %,d. Near duplicates dropped: %,d. Reproduce: `bin/benchmark-dataset-preparation` (writes
                this section).
                """,
                ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"),
                examples,
                bytes / 1e6,
                examples / rawSeconds,
                rawRate,
                rawSeconds,
                result.validExamples() / pipelineSeconds,
                pipelineRate,
                pipelineSeconds,
                100 * (result.validExamples() / pipelineSeconds) / (examples / rawSeconds),
                100 * pipelineRate / rawRate,
                pipelineTokens,
                raw,
                result.nearDuplicates());
    }
}
