package dev.finetune.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RunReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void metricsKeepTheirColumnsWhenARandomModelsPerplexityIsHuge() throws Exception {
        JsonNode report = JSON.readTree(
                """
                {"evaluationId": "ds-x-1-step-550", "status": "passed",
                 "metrics": {"perplexity": 1.0212, "exact_match": 1.0},
                 "baseMetrics": {"perplexity": 15498449.8285, "exact_match": 0.0},
                 "promptBaselineMetrics": {"perplexity": 11364372.7927},
                 "improvement": {"perplexity": 15498448.8072, "exact_match": 1.0}}
                """);

        String printed = print(report);

        assertThat(printed)
                .contains("  perplexity              1.550e+07    1.136e+07       1.0212   +1.550e+07\n")
                .contains("  exact_match                0.0000            -       1.0000      +1.0000\n");
    }

    @Test
    void testAnswersShowWhatWasExpectedAndWhatTheAdapterAndTheBaseModelSaid() throws Exception {
        JsonNode report = JSON.readTree(
                """
                {"evaluationId": "e", "status": "passed", "metrics": {},
                 "generations": [
                   {"reference": "In the TV app, open the Shared tab.", "generated": "In the TV app, open the Shared tab.", "exactMatch": 1.0},
                   {"reference": "In the web app, open Help.", "generated": "In the web app, open\\nHelp", "exactMatch": 0.0}],
                 "baseGenerations": [
                   {"generated": "wit hassist"},
                   {"generated": "hel\\u0012re"}]}
                """);

        String printed = print(report);

        assertThat(printed)
                .contains(
                        """
                          test answers (2 of 2, greedy):
                            expected    "In the TV app, open the Shared tab."
                            fine-tuned  "In the TV app, open the Shared tab."  (exact)
                            base        "wit hassist"
                            expected    "In the web app, open Help."
                            fine-tuned  "In the web app, open Help"
                            base        "hel\uFFFDre"
                        """);
    }

    private static String print(JsonNode report) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.evaluation(new PrintStream(bytes, true, StandardCharsets.UTF_8), report);
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
