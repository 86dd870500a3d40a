package dev.finetune.llm.inference;

import java.util.Locale;

/**
 * Counts what the speculative steps of generation calls checked and kept ({@link
 * GenerationConfig#promptLookupTokens}), passing every token on to another listener: whether prompt
 * lookup pays for a workload.
 */
public final class DraftTally implements TokenListener {
    private final TokenListener next;
    private int tokens;
    private int checks;
    private int drafted;
    private int kept;

    /** @param next hears every token, as it would without the tally */
    public DraftTally(TokenListener next) {
        this.next = next;
    }

    @Override
    public void onToken(int sequence, int step, long token) {
        tokens++;
        next.onToken(sequence, step, token);
    }

    @Override
    public void onDraftChecked(int sequence, int drafted, int kept) {
        checks++;
        this.drafted += drafted;
        this.kept += kept;
        next.onDraftChecked(sequence, drafted, kept);
    }

    /** Tokens heard. */
    public int tokens() {
        return tokens;
    }

    /** Speculative steps: forward passes that checked a draft. */
    public int checks() {
        return checks;
    }

    public int drafted() {
        return drafted;
    }

    public int kept() {
        return kept;
    }

    /** "kept K of D draft tokens over C checks". */
    public String summary() {
        return String.format(Locale.ROOT, "kept %d of %d draft tokens over %d checks", kept, drafted, checks);
    }
}
