package dev.finetune.cli.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;

/**
 * A service's log line as a person reads it in a failure report. In the prod profile the services
 * log one JSON object per line (for log collectors); this shows its time, level, logger, the job or
 * evaluation it is about, the message and the exception's first line. Any other line is kept as is.
 */
final class LogLine {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The work-context fields worth a glance, in the order shown. */
    private static final List<String> FIELDS = List.of("job.id", "evaluation.id", "dataset.name");

    private LogLine() {}

    static String readable(String line) {
        if (!line.startsWith("{")) {
            return line;
        }
        JsonNode entry;
        try {
            entry = JSON.readTree(line);
        } catch (IOException e) {
            return line;
        }
        StringBuilder out = new StringBuilder();
        String time = entry.path("timestamp").asText("");
        int t = time.indexOf('T');
        out.append(t >= 0 && time.length() >= t + 13 ? time.substring(t + 1, t + 13) : time);
        out.append(' ').append(String.format("%-5s", entry.path("level").asText("")));
        String logger = entry.path("loggerName").asText("");
        out.append(" [").append(logger.substring(logger.lastIndexOf('.') + 1)).append(']');
        JsonNode mdc = entry.path("mdc");
        for (String field : FIELDS) {
            if (mdc.hasNonNull(field)) {
                out.append(' ').append(field).append('=').append(mdc.get(field).asText());
            }
        }
        out.append(' ').append(entry.path("message").asText(""));
        JsonNode exception = entry.path("exception");
        if (!exception.isMissingNode()) {
            out.append(" | ")
                    .append(exception.path("exceptionType").asText(""))
                    .append(": ")
                    .append(exception.path("message").asText(""));
        }
        return out.toString();
    }
}
