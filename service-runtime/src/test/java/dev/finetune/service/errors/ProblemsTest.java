package dev.finetune.service.errors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.naming.InvalidNameException;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProblemsTest {
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    record Hyperparameters(Double learningRate, Integer batchSize) {}

    record JobRequest(String baseModel, Hyperparameters hyperparameters) {}

    record Gates(Double minExactMatch) {
        Gates {
            if (minExactMatch != null && minExactMatch > 1) {
                throw new InvalidInputException(
                        "gates.minExactMatch", "gates.minExactMatch must be <= 1, got " + minExactMatch);
            }
        }
    }

    @Test
    void invalidInputIsA400NamingTheField() {
        Problem p = Problems.invalidInput(
                new InvalidInputException("dataset.version", "dataset.version must be a name, got '../x'"));
        assertThat(p.members())
                .containsEntry("type", "https://finetune.dev/problems/invalid-input")
                .containsEntry("title", "Invalid input")
                .containsEntry("status", 400)
                .containsEntry("detail", "dataset.version must be a name, got '../x'")
                .containsEntry("field", "dataset.version");
        assertThat(Problems.invalidInput(new InvalidNameException("a name")).members())
                .doesNotContainKey("field");
    }

    @Test
    void anUnknownNestedFieldNamesItsPathAndTheClosestKnownField() {
        var e = catchThrowableOfType(
                UnrecognizedPropertyException.class,
                () -> json.readValue(
                        "{\"baseModel\":\"m\",\"hyperparameters\":{\"learning_rate\":0.1}}", JobRequest.class));
        Problem p = Problems.unknownField(e);
        assertThat(p.members())
                .containsEntry("type", "https://finetune.dev/problems/unknown-field")
                .containsEntry("status", 400)
                .containsEntry("field", "hyperparameters.learning_rate")
                .containsEntry(
                        "detail",
                        "unknown field 'hyperparameters.learning_rate'; did you mean 'learningRate'?"
                                + " (known fields: batchSize, learningRate)");
    }

    @Test
    void malformedJsonNamesTheLineAndColumn() {
        var e = catchThrowableOfType(
                JsonProcessingException.class,
                () -> json.readValue("{\n  \"baseModel\": \"m\",,\n}", JobRequest.class));
        Problem p = Problems.webApplication(new WebApplicationException(e, Response.Status.BAD_REQUEST));
        assertThat(p.members())
                .containsEntry("type", "https://finetune.dev/problems/invalid-json")
                .containsEntry("status", 400);
        assertThat((String) p.members().get("detail"))
                .startsWith("malformed JSON at line 2, column 20: Unexpected character");
    }

    @Test
    void aValueOfTheWrongTypeNamesTheField() {
        var e = catchThrowableOfType(
                JsonProcessingException.class,
                () -> json.readValue("{\"hyperparameters\":{\"batchSize\":\"sixteen\"}}", JobRequest.class));
        Problem p = Problems.unreadableBody(e);
        assertThat(p.members())
                .containsEntry("type", "https://finetune.dev/problems/invalid-json")
                .containsEntry("field", "hyperparameters.batchSize");
        assertThat((String) p.members().get("detail"))
                .startsWith("field 'hyperparameters.batchSize' at line 1, column 33 has the wrong type: ");
    }

    @Test
    void invalidInputFromARecordsConstructorKeepsItsMessageAndField() {
        var e = catchThrowableOfType(
                JsonProcessingException.class, () -> json.readValue("{\"minExactMatch\":2}", Gates.class));
        Problem p = Problems.webApplication(new WebApplicationException(e, Response.Status.BAD_REQUEST));
        assertThat(p.members())
                .containsEntry("type", "https://finetune.dev/problems/invalid-input")
                .containsEntry("field", "gates.minExactMatch")
                .containsEntry("detail", "gates.minExactMatch must be <= 1, got 2.0");
    }

    @Test
    void aWebApplicationExceptionKeepsItsStatus() {
        assertThat(Problems.webApplication(new NotFoundException("no job 'j'")).members())
                .containsEntry("type", "https://finetune.dev/problems/not-found")
                .containsEntry("status", 404)
                .containsEntry("detail", "no job 'j'");
        assertThat(Problems.webApplication(new BadRequestException("trigger needs baseModel"))
                        .members())
                .containsEntry("type", "https://finetune.dev/problems/invalid-input")
                .containsEntry("status", 400);
        assertThat(Problems.webApplication(new NotAllowedException("POST")).members())
                .containsEntry("type", "about:blank")
                .containsEntry("title", "Method Not Allowed")
                .containsEntry("status", 405);
        assertThat(Problems.webApplication(new WebApplicationException("no probe came back", 504))
                        .members())
                .containsEntry("type", "about:blank")
                .containsEntry("title", "Gateway Timeout")
                .containsEntry("detail", "no probe came back");
    }

    @Test
    void anInternalErrorSaysOnlyItsId() {
        Problem p = Problems.internal("0123456789abcdef");
        assertThat(p.members())
                .containsOnlyKeys("type", "title", "status", "detail", "errorId")
                .containsEntry("type", "https://finetune.dev/problems/internal-error")
                .containsEntry("status", 500)
                .containsEntry("detail", "internal error, id 0123456789abcdef")
                .containsEntry("errorId", "0123456789abcdef");
    }

    @Test
    void jacksonFailuresOfTheServicesOwnReadingAreNotTheCallersFault() {
        var e = catchThrowableOfType(
                UnrecognizedPropertyException.class, () -> json.readValue("{\"x\":1}", Gates.class));
        assertThat(Problems.readingRequestBody(e)).isFalse();
    }

    @Test
    void theAnswerIsProblemJsonWithExtensionMembersAndTheInstance() throws Exception {
        Response response = Problem.of(ProblemType.CONFLICT, "alias moved")
                .instance("/api/models/m/aliases/production")
                .with("decision", Map.of("allowed", false))
                .toResponse(json);
        assertThat(response.getStatus()).isEqualTo(409);
        assertThat(response.getMediaType().toString()).isEqualTo("application/problem+json");
        assertThat(json.readTree((String) response.getEntity()).toString())
                .isEqualTo("{\"type\":\"https://finetune.dev/problems/conflict\",\"title\":\"Conflict\",\"status\":409,"
                        + "\"detail\":\"alias moved\",\"instance\":\"/api/models/m/aliases/production\","
                        + "\"decision\":{\"allowed\":false}}");
    }

    @Test
    void errorIdsAreShortAndFresh() {
        assertThat(ProblemMappers.newErrorId()).matches("[0-9a-f]{16}").isNotEqualTo(ProblemMappers.newErrorId());
    }
}
