package dev.finetune.dataset.ingest;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Fails once more than {@code limit} bytes have been read: an upload of unknown length cannot exceed it. */
final class LimitedInputStream extends FilterInputStream {
    private final long limit;
    private long count;

    /** Thrown (as an IOException, so streams pass it through) when the limit is exceeded. */
    static final class LimitExceededException extends IOException {
        LimitExceededException(long limit) {
            super("more than " + limit + " bytes");
        }
    }

    LimitedInputStream(InputStream in, long limit) {
        super(in);
        this.limit = limit;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            check(1);
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n = super.read(buffer, offset, length);
        if (n > 0) {
            check(n);
        }
        return n;
    }

    private void check(int n) throws LimitExceededException {
        count += n;
        if (count > limit) {
            throw new LimitExceededException(limit);
        }
    }
}
