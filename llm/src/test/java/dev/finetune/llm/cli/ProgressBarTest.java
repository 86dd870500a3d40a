package dev.finetune.llm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    @Test
    void barIsFilledInProportionToTheStepsDone() {
        ProgressBar bar = new ProgressBar(new PrintWriter(new ByteArrayOutputStream()), "training", false);
        assertThat(bar.render(10, 40, "loss 1.5"))
                .isEqualTo("training    [######------------------]  25%  10/40  loss 1.5");
        assertThat(bar.render(0, 0, null)).isEqualTo("training    [------------------------]   ...");
        assertThat(bar.render(50, 40, "")).startsWith("training    [########################] 100%");
    }

    @Test
    void inALogOnlyEveryTenthIsPrintedAndTheFinishAlways() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintWriter(sink, true, StandardCharsets.UTF_8), "training", false);
        for (int step = 0; step <= 95; step++) {
            bar.update(step, 100, "running");
        }
        bar.finish(100, 100, "succeeded");
        String[] lines = sink.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(11);
        assertThat(lines[0]).contains("0/100");
        assertThat(lines[9]).contains("90/100");
        assertThat(lines[10]).contains("100/100  succeeded");
    }

    @Test
    void onATerminalTheLineIsRedrawnInPlaceAndMessagesGoAboveIt() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintWriter(sink, true, StandardCharsets.UTF_8), "training", true);
        bar.update(1, 4, "a");
        bar.message("checkpoint at step 1");
        bar.finish(4, 4, "done");
        String out = sink.toString(StandardCharsets.UTF_8);
        assertThat(out).startsWith("\rtraining    [######");
        assertThat(out).contains("\r\u001b[Kcheckpoint at step 1\n");
        assertThat(out).endsWith("4/4  done\u001b[K" + System.lineSeparator());
    }

    @Test
    void clockReadsLikeAPersonWouldSayIt() {
        assertThat(ProgressBar.clock(7)).isEqualTo("0:07");
        assertThat(ProgressBar.clock(187)).isEqualTo("3:07");
        assertThat(ProgressBar.clock(3 * 3600 + 5 * 60 + 9)).isEqualTo("3:05:09");
        assertThat(ProgressBar.clock(Double.NaN)).isEqualTo("?");
    }
}
