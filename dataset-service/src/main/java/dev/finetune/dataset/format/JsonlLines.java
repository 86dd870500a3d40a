package dev.finetune.dataset.format;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads JSONL as numbered raw lines, one at a time, so a multi-GB file never sits in memory. A
 * gzip stream (by its magic bytes) is decompressed on the fly, within {@link DecompressionLimits}.
 * Each line is checked to be UTF-8 before anyone parses it, so "not UTF-8" is reported as such
 * rather than as a JSON error.
 *
 * <p>Failures are told apart: a corrupt or truncated archive, or one past the limits, is an {@link
 * UnreadableInputException} (bad input: the dataset is rejected with the reason); a failure of the
 * stream underneath (a dropped connection) is an {@link UncheckedIOException} (worth retrying).
 */
public final class JsonlLines implements AutoCloseable {
    /** A line longer than this is not read whole (it would not pass the example length limit anyway). */
    private static final int MAX_LINE_BYTES = 64 * 1024 * 1024;

    private final InputStream in;
    private final boolean gzip;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final byte[] buffer = new byte[1 << 16];
    private int pos;
    private int limit;
    private long number;

    /** A raw line: its 1-based number and its bytes (without the line terminator). */
    public record Line(long number, byte[] bytes, boolean validUtf8, boolean tooLong) {
        public boolean isBlank() {
            for (byte b : bytes) {
                if (b != ' ' && b != '\t' && b != '\r') {
                    return false;
                }
            }
            return true;
        }
    }

    /** Reads trusted input: gzip without decompression limits. */
    public JsonlLines(InputStream raw) throws IOException {
        this(raw, DecompressionLimits.none());
    }

    public JsonlLines(InputStream raw, DecompressionLimits limits) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
        buffered.mark(2);
        int b1 = buffered.read();
        int b2 = buffered.read();
        buffered.reset();
        this.gzip = b1 == 0x1f && b2 == 0x8b;
        InputStream opened;
        try {
            opened = gzip ? new BoundedGzipInputStream(buffered, limits) : buffered;
        } catch (IOException e) {
            throw failure(e);
        }
        this.in = opened;
    }

    /** The next line, or null at the end. */
    public Line next() {
        line.reset();
        boolean tooLong = false;
        boolean sawAny = false;
        try {
            while (true) {
                if (pos == limit) {
                    limit = in.read(buffer, 0, buffer.length);
                    pos = 0;
                    if (limit <= 0) {
                        limit = 0;
                        if (!sawAny) {
                            return null;
                        }
                        break;
                    }
                }
                sawAny = true;
                int newline = indexOf(buffer, pos, limit, (byte) '\n');
                int end = newline < 0 ? limit : newline;
                int room = MAX_LINE_BYTES - line.size();
                if (end - pos > room) {
                    tooLong = true;
                }
                line.write(buffer, pos, Math.min(end - pos, Math.max(room, 0)));
                pos = newline < 0 ? limit : newline + 1;
                if (newline >= 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw failure(e);
        }
        number++;
        byte[] bytes = line.toByteArray();
        if (bytes.length > 0 && bytes[bytes.length - 1] == '\r') {
            bytes = java.util.Arrays.copyOf(bytes, bytes.length - 1);
        }
        return new Line(number, bytes, isUtf8(bytes), tooLong);
    }

    /** What a failure to read means: bad input (the archive) or a broken stream (see class doc). */
    private RuntimeException failure(IOException e) {
        if (e instanceof BoundedGzipInputStream.SourceException source) {
            return new UncheckedIOException("reading line " + (number + 1) + ": " + e.getMessage(), source.source());
        }
        if (e instanceof DecompressionLimits.LimitExceededException) {
            return new UnreadableInputException(e.getMessage() + " (at line " + (number + 1) + ")", e);
        }
        if (gzip) {
            return new UnreadableInputException(
                    "the gzip data is corrupt or truncated at line " + (number + 1) + ": " + e.getMessage(), e);
        }
        return new UncheckedIOException("reading line " + (number + 1) + ": " + e.getMessage(), e);
    }

    private static int indexOf(byte[] bytes, int from, int to, byte value) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == value) {
                return i;
            }
        }
        return -1;
    }

    private boolean isUtf8(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                try {
                    utf8.reset().decode(ByteBuffer.wrap(bytes));
                    return true;
                } catch (CharacterCodingException e) {
                    return false;
                }
            }
        }
        return true; // plain ASCII: the common case, no decoder needed
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
