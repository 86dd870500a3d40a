package dev.finetune.llm.quant;

/**
 * A linear weight [O, I] quantised to int8 per output row ({@link Int8}), in Java arrays; {@link
 * Int8Linear} moves it to the engine.
 *
 * @param shape [O, I]
 * @param codes O * I signed codes in [-127, 127], row-major
 * @param scales one fp32 scale per row, {@code absmax(row) / 127}: value = code * scale
 */
public record Int8Weight(long[] shape, byte[] codes, float[] scales) {
    /** Bytes of codes and scales: what the weight occupies in memory. */
    public long residentBytes() {
        return codes.length + 4L * scales.length;
    }
}
