package dev.finetune.dataset.prepare;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.dataset.dedup.NearDuplicateIndex;
import dev.finetune.dataset.dedup.RemovedDuplicate;
import dev.finetune.dataset.format.CanonicalExample;
import dev.finetune.dataset.format.JsonlLines;
import dev.finetune.dataset.format.LineParser;
import dev.finetune.dataset.format.Message;
import dev.finetune.dataset.format.ToolCall;
import dev.finetune.dataset.split.Splitter;
import dev.finetune.dataset.split.Splitter.Split;
import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import dev.finetune.events.DatasetKind;
import dev.finetune.storage.Digests;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Prepares one dataset in a single streaming pass: read line by line, validate and normalise into
 * the canonical form, drop exact and near duplicates (first occurrence wins, and the report names
 * it for each one dropped), assign each example
 * to a split by the hash of its content, count its tokens, and append it to that split's file.
 * Memory holds the de-duplication index and the token lengths, never the examples.
 */
public final class DatasetPreparation {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Examples per tokenizer call: large enough to keep native threads busy, small enough to stay in cache. */
    private static final int BATCH = 256;

    private final PreparationSettings settings;
    private final TokenCounter tokens;

    public DatasetPreparation(PreparationSettings settings, TokenCounter tokens) {
        this.settings = settings;
        this.tokens = tokens;
    }

    /** Reads {@code raw} (JSONL, optionally gzip) and writes the split files into {@code workDir}. */
    public PreparationResult prepare(InputStream raw, Path workDir) throws IOException {
        Files.createDirectories(workDir);
        LineParser parser = new LineParser(settings.format(), settings.maxCharacters());
        Splitter splitter = new Splitter(settings.trainRatio(), settings.validationRatio(), settings.testRatio());
        NearDuplicateIndex nearDuplicates = settings.nearDuplicateThreshold() < 1
                ? new NearDuplicateIndex(settings.nearDuplicateThreshold())
                : null;
        Map<Key, Long> seen = new HashMap<>(); // example hash to the line it was first seen on
        List<RemovedDuplicate> duplicates = new ArrayList<>();
        Map<Split, SplitWriter> writers = new EnumMap<>(Split.class);
        for (Split split : Split.values()) {
            writers.put(split, new SplitWriter(workDir.resolve(split.fileName())));
        }
        List<LineError> errors = new ArrayList<>();
        Map<String, Long> errorsByReason = new TreeMap<>();
        Map<String, Long> invalidByRule = new TreeMap<>();
        long lines = 0;
        long blank = 0;
        long invalid = 0;
        long exactDuplicates = 0;
        long nearDuplicateCount = 0;
        DatasetKind kind = DatasetKind.SFT;
        List<Pending> pending = new ArrayList<>(BATCH);
        try (JsonlLines reader = new JsonlLines(raw, settings.decompression());
                BatchWriter batches = new BatchWriter(writers)) {
            for (JsonlLines.Line line = reader.next(); line != null; line = reader.next()) {
                lines++;
                if (line.isBlank()) {
                    blank++;
                    continue;
                }
                CanonicalExample example;
                try {
                    example = parser.parse(line);
                } catch (InvalidLineException e) {
                    invalid++;
                    LineError error = e.error();
                    errorsByReason.merge(reasonKey(error), 1L, Long::sum);
                    invalidByRule.merge(e.rule(), 1L, Long::sum);
                    if (errors.size() < settings.maxReportedErrors()) {
                        errors.add(error);
                    }
                    continue;
                }
                kind = example.kind();
                byte[] canonical = canonicalJson(example);
                byte[] digest = sha256(canonical);
                Long original = seen.putIfAbsent(new Key(digest), line.number());
                if (original != null) {
                    exactDuplicates++;
                    list(duplicates, RemovedDuplicate.exact(line.number(), original));
                    continue;
                }
                // Pre-tokenized rows have no text to compare word shingles of, and two id sequences that
                // differ in a few tokens are a reproducibility choice the uploader made: exact only.
                Optional<NearDuplicateIndex.Match> near = nearDuplicates == null || example.tokens() != null
                        ? Optional.empty()
                        : nearDuplicates.findOrAdd(example.parts(), line.number());
                if (near.isPresent()) {
                    nearDuplicateCount++;
                    list(duplicates, RemovedDuplicate.near(line.number(), near.get()));
                    continue;
                }
                pending.add(new Pending(example, canonical, splitter.assign(digest)));
                if (pending.size() == BATCH) {
                    batches.submit(pending);
                    pending = new ArrayList<>(BATCH);
                }
            }
            batches.submit(pending);
            batches.finish();
        } finally {
            for (SplitWriter writer : writers.values()) {
                writer.close();
            }
        }
        Map<Split, PreparationResult.SplitFile> files = new EnumMap<>(Split.class);
        Map<String, SplitStatistics.Summary> summaries = new LinkedHashMap<>();
        for (Map.Entry<Split, SplitWriter> entry : writers.entrySet()) {
            SplitWriter w = entry.getValue();
            files.put(entry.getKey(), new PreparationResult.SplitFile(w.path, w.stats.count(), w.sha256()));
            summaries.put(entry.getKey().key(), w.stats.summary(settings.maxTokens()));
        }
        long nonBlank = lines - blank;
        long kept = files.values().stream()
                .mapToLong(PreparationResult.SplitFile::examples)
                .sum();
        String rejection = rejection(nonBlank, invalid, kept);
        var statistics = new PreparationResult.Statistics(
                tokens.name(),
                settings.maxTokens(),
                summaries,
                SplitStatistics.histogram(
                        writers.values().stream().map(w -> w.stats).toList()));
        return new PreparationResult(
                parser.format(),
                kind,
                lines,
                blank,
                invalid,
                exactDuplicates,
                nearDuplicateCount,
                files,
                List.copyOf(errors),
                errorsByReason,
                invalidByRule,
                List.copyOf(duplicates),
                rejection,
                statistics);
    }

    /** Lists a removed duplicate in the report, up to the same bound as invalid lines (all are counted). */
    private void list(List<RemovedDuplicate> duplicates, RemovedDuplicate duplicate) {
        if (duplicates.size() < settings.maxReportedErrors()) {
            duplicates.add(duplicate);
        }
    }

    /**
     * Counts and writes batches on a thread of its own, one batch in flight: tokenising batch n
     * overlaps parsing, hashing and de-duplicating batch n+1, and the files keep the input order.
     */
    private final class BatchWriter implements AutoCloseable {
        private final Map<Split, SplitWriter> writers;
        private final java.util.concurrent.ExecutorService thread =
                java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "dataset-token-counter");
                    t.setDaemon(true);
                    return t;
                });
        private java.util.concurrent.Future<?> inFlight;

        BatchWriter(Map<Split, SplitWriter> writers) {
            this.writers = writers;
        }

        void submit(List<Pending> batch) throws IOException {
            finish();
            if (batch.isEmpty()) {
                return;
            }
            inFlight = thread.submit(() -> {
                int[] counts =
                        tokens.countAll(batch.stream().map(Pending::example).toList());
                for (int i = 0; i < counts.length; i++) {
                    writers.get(batch.get(i).split()).write(batch.get(i).canonical(), counts[i]);
                }
                return null;
            });
        }

        /** Waits for the batch in flight; its failure is this caller's failure. */
        void finish() throws IOException {
            if (inFlight == null) {
                return;
            }
            try {
                inFlight.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while counting tokens");
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new IllegalStateException(e.getCause());
            } finally {
                inFlight = null;
            }
        }

        @Override
        public void close() {
            thread.shutdownNow();
        }
    }

    /** An accepted example waiting for its batch's token count. */
    private record Pending(CanonicalExample example, byte[] canonical, Split split) {}

    private String rejection(long nonBlank, long invalid, long kept) {
        if (nonBlank == 0) {
            return "the dataset has no non-blank lines";
        }
        double fraction = (double) invalid / nonBlank;
        if (fraction > settings.maxInvalidFraction()) {
            return String.format(
                    java.util.Locale.ROOT,
                    "%d of %d lines (%.1f%%) are invalid, more than the %.1f%% allowed",
                    invalid,
                    nonBlank,
                    100 * fraction,
                    100 * settings.maxInvalidFraction());
        }
        if (kept == 0) {
            return "no example is left after validation and de-duplication";
        }
        return null;
    }

    private static String reasonKey(LineError error) {
        return (error.field() == null ? "" : error.field().replaceAll("\\[\\d+]", "[]") + ": ") + error.reason();
    }

    /**
     * The canonical JSONL line: messages with their tool calls and tools (SFT), prompt/chosen/rejected
     * (preference), prompt/completion/label (unpaired preference), prompt with its reference when it has
     * one (prompt-only: the line {@link DatasetKind#PROMPT} fixes), messages/choices/answer (multiple
     * choice) or input_ids/completion_mask (tokenized, whichever of labels or completion_mask it came
     * with, so that exact de-duplication and the split see the ids and the trained positions only).
     */
    static byte[] canonicalJson(CanonicalExample example) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            if (example.tokens() != null) {
                writeInts(g, "input_ids", example.tokens().inputIds());
                boolean[] trained = example.tokens().trained();
                g.writeArrayFieldStart("completion_mask");
                for (boolean t : trained) {
                    g.writeNumber(t ? 1 : 0);
                }
                g.writeEndArray();
            } else if (example.label() != null) {
                writeTurns(g, "prompt", example.messages());
                writeTurns(g, "completion", example.chosen());
                g.writeBooleanField("label", example.label());
            } else if (example.isPromptOnly()) {
                writeTurns(g, "prompt", example.messages());
                if (!example.reference().isEmpty()) {
                    g.writeStringField("reference", example.reference());
                }
            } else if (example.isPreference()) {
                writeTurns(g, "prompt", example.messages());
                writeTurns(g, "chosen", example.chosen());
                writeTurns(g, "rejected", example.rejected());
            } else {
                writeTurns(g, "messages", example.messages());
                if (!example.tools().isEmpty()) {
                    g.writeArrayFieldStart("tools");
                    for (JsonNode tool : example.tools()) {
                        g.writeTree(tool);
                    }
                    g.writeEndArray();
                }
                if (example.choices() != null) {
                    g.writeArrayFieldStart("choices");
                    for (String choice : example.choices()) {
                        g.writeString(choice);
                    }
                    g.writeEndArray();
                    g.writeNumberField("answer", example.answer());
                }
            }
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    private static void writeInts(JsonGenerator g, String field, int[] values) throws IOException {
        g.writeArrayFieldStart(field);
        for (int v : values) {
            g.writeNumber(v);
        }
        g.writeEndArray();
    }

    private static void writeTurns(JsonGenerator g, String field, List<Message> turns) throws IOException {
        g.writeArrayFieldStart(field);
        for (Message m : turns) {
            g.writeStartObject();
            g.writeStringField("role", m.role());
            g.writeStringField("content", m.content());
            if (!m.toolCalls().isEmpty()) {
                g.writeArrayFieldStart("tool_calls");
                for (ToolCall call : m.toolCalls()) {
                    g.writeStartObject();
                    if (call.id() != null) {
                        g.writeStringField("id", call.id());
                    }
                    g.writeStringField("type", "function");
                    g.writeObjectFieldStart("function");
                    g.writeStringField("name", call.name());
                    g.writeFieldName("arguments");
                    g.writeTree(call.arguments());
                    g.writeEndObject();
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            if (m.toolCallId() != null) {
                g.writeStringField("tool_call_id", m.toolCallId());
            }
            if (m.name() != null) {
                g.writeStringField("name", m.name());
            }
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static byte[] sha256(byte[] data) {
        return Digests.sha256().digest(data);
    }

    /** 128 bits of an example's SHA-256: collisions are out of reach at any dataset size. */
    private record Key(long high, long low) {
        Key(byte[] digest) {
            this(
                    java.nio.ByteBuffer.wrap(digest).getLong(0),
                    java.nio.ByteBuffer.wrap(digest).getLong(8));
        }
    }

    /** One split's output file, its running hash and its length statistics. */
    private static final class SplitWriter implements AutoCloseable {
        final Path path;
        final SplitStatistics stats = new SplitStatistics();
        private final MessageDigest sha = Digests.sha256();
        private final OutputStream out;

        SplitWriter(Path path) throws IOException {
            this.path = path;
            this.out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
        }

        void write(byte[] canonical, int tokenCount) throws IOException {
            out.write(canonical);
            out.write('\n');
            sha.update(canonical);
            sha.update((byte) '\n');
            stats.add(tokenCount);
        }

        String sha256() {
            return Digests.hex(sha);
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
