package dev.finetune.dataset.ingest;

import dev.finetune.dataset.format.BoundedGzipInputStream;
import dev.finetune.dataset.format.DecompressionLimits;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Passes a gzip upload through unchanged while inflating it on the side (the output is counted and
 * dropped), so an upload that would expand beyond the {@link DecompressionLimits} is refused while
 * it arrives: a 1 MB bomb fails after a few megabytes of output, not after a gigabyte.
 *
 * <p>Only the limits are judged here. A corrupt or truncated archive is stored as uploaded (a
 * version is what the client sent) and its preparation rejects it with the reason; from the first
 * format error on, the bytes simply pass through.
 */
final class GzipLimitCheck extends InputStream {
    private static final int SCRATCH = 1 << 16;

    private final Tap tap;
    private final DecompressionLimits limits;
    private final byte[] scratch = new byte[SCRATCH];
    private BoundedGzipInputStream inflater;
    /** False once the gzip data has ended or turned out corrupt: the rest passes straight through. */
    private boolean inflating = true;

    GzipLimitCheck(InputStream upload, DecompressionLimits limits) {
        this.tap = new Tap(upload);
        this.limits = limits;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        // Inflate until the inflater has pulled more of the upload than was handed on.
        while (tap.pending() == 0 && inflating) {
            inflateSome();
        }
        if (tap.pending() > 0) {
            return tap.drain(buffer, offset, length);
        }
        return tap.in().read(buffer, offset, length); // after the gzip data (or a format error)
    }

    private void inflateSome() throws IOException {
        try {
            if (inflater == null) {
                inflater = new BoundedGzipInputStream(tap, limits);
                return;
            }
            if (inflater.read(scratch, 0, scratch.length) < 0) {
                inflating = false;
            }
        } catch (DecompressionLimits.LimitExceededException e) {
            throw e;
        } catch (BoundedGzipInputStream.SourceException e) {
            throw e.source(); // the upload itself failed (too large, connection lost): as without the check
        } catch (IOException e) {
            inflating = false; // corrupt archive: stored as sent, rejected with the reason when prepared
        }
    }

    /** Reads the upload for the inflater and keeps what it read until it is handed on. */
    private static final class Tap extends FilterInputStream {
        private byte[] pending = new byte[SCRATCH];
        private int start;
        private int end;

        Tap(InputStream in) {
            super(in);
        }

        InputStream in() {
            return in;
        }

        int pending() {
            return end - start;
        }

        int drain(byte[] buffer, int offset, int length) {
            int n = Math.min(length, end - start);
            System.arraycopy(pending, start, buffer, offset, n);
            start += n;
            return n;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                keep(new byte[] {(byte) b}, 0, 1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                keep(buffer, offset, n);
            }
            return n;
        }

        private void keep(byte[] buffer, int offset, int n) {
            if (start == end) {
                start = 0;
                end = 0;
            }
            if (end + n > pending.length) {
                pending = Arrays.copyOf(pending, Math.max(pending.length * 2, end + n));
            }
            System.arraycopy(buffer, offset, pending, end, n);
            end += n;
        }
    }
}
