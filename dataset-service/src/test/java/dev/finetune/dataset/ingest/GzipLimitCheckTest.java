package dev.finetune.dataset.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.dataset.format.DecompressionLimits;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * What refusing a gzip bomb costs, counted rather than timed (CompressedInputTest times the whole
 * request, with room for a loaded machine): the upload is refused once its output passes the ratio
 * times what was read of it, one 64 KiB read at first, so after some 6.5 MB of output at ratio 100
 * (milliseconds of inflating), however large the bomb would expand.
 */
class GzipLimitCheckTest {
    private static final Pattern GAVE = Pattern.compile("\\((\\d+) compressed bytes gave (\\d+)\\)");

    @Test
    void aGzipBombIsRefusedAfterAFewMegabytesOfOutputWhateverItWouldExpandTo() throws Exception {
        for (long size : new long[] {64L << 20, 1L << 30}) {
            byte[] bomb = gzipOfZeros(size);
            CountingStream upload = new CountingStream(new ByteArrayInputStream(bomb));
            InputStream checked = new GzipLimitCheck(upload, new DecompressionLimits(20L << 30, 100));

            assertThatThrownBy(() -> checked.transferTo(OutputStream.nullOutputStream()))
                    .isInstanceOf(DecompressionLimits.LimitExceededException.class)
                    .hasMessageContaining("pipeline.dataset.max-compression-ratio (100)")
                    .satisfies(e -> {
                        Matcher gave = GAVE.matcher(e.getMessage());
                        assertThat(gave.find()).as(e.getMessage()).isTrue();
                        assertThat(Long.parseLong(gave.group(2)))
                                .as("bytes inflated before the refusal, of a bomb of %d", size)
                                .isLessThan(8L << 20);
                    });
            assertThat(upload.read)
                    .as("upload bytes read before the refusal, of %d", bomb.length)
                    .isLessThan(256L << 10);
        }
    }

    private static byte[] gzipOfZeros(long size) throws IOException {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        byte[] zeros = new byte[1 << 20];
        try (GZIPOutputStream out = new GZIPOutputStream(gz, 1 << 16)) {
            for (long written = 0; written < size; written += zeros.length) {
                out.write(zeros);
            }
        }
        return gz.toByteArray();
    }

    /** Counts the bytes read through it. */
    private static final class CountingStream extends FilterInputStream {
        long read;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                read++;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                read += n;
            }
            return n;
        }
    }
}
