package dev.finetune.dataset.format;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Decompresses gzip while counting bytes in and out, and fails with a {@link
 * DecompressionLimits.LimitExceededException} as soon as the output passes a limit. An I/O failure
 * of the underlying stream arrives wrapped in a {@link SourceException}, so a caller can tell a
 * broken connection (worth retrying) from a corrupt or truncated archive (never worth it).
 */
public final class BoundedGzipInputStream extends InputStream {
    private static final int BUFFER = 1 << 16;

    private final DecompressionLimits limits;
    private final Counting source;
    private final GZIPInputStream gzip;
    private long decompressed;

    /** Reads the gzip header now, so a stream that is not gzip fails here. */
    public BoundedGzipInputStream(InputStream compressed, DecompressionLimits limits) throws IOException {
        this.limits = limits;
        this.source = new Counting(compressed);
        this.gzip = new GZIPInputStream(source, BUFFER);
    }

    /** An I/O failure of the stream being decompressed (not of the gzip format). */
    public static final class SourceException extends IOException {
        SourceException(IOException cause) {
            super(cause.getMessage(), cause);
        }

        public IOException source() {
            return (IOException) getCause();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n = gzip.read(buffer, offset, length);
        if (n > 0) {
            decompressed += n;
            limits.check(source.count, decompressed);
        }
        return n;
    }

    /** Compressed bytes consumed so far. */
    public long compressedBytes() {
        return source.count;
    }

    public long decompressedBytes() {
        return decompressed;
    }

    @Override
    public void close() throws IOException {
        gzip.close();
    }

    /** Counts what the inflater is fed and tags the failures of the stream under it. */
    private static final class Counting extends FilterInputStream {
        long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                int b = super.read();
                if (b >= 0) {
                    count++;
                }
                return b;
            } catch (SourceException e) {
                throw e;
            } catch (IOException e) {
                throw new SourceException(e);
            }
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            try {
                int n = super.read(buffer, offset, length);
                if (n > 0) {
                    count += n;
                }
                return n;
            } catch (SourceException e) {
                throw e;
            } catch (IOException e) {
                throw new SourceException(e);
            }
        }
    }
}
