package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.finetune.events.JobState;
import dev.finetune.events.TrainingEvent;
import dev.finetune.events.TrainingEventKind;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.training.job.JobStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Event and job listings come in pages that start after a cursor: walking them shows every item
 * once, in order, and a bad page request is refused naming the parameter and value.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class JobPagesTest {
    @Inject
    JobStore jobs;

    @Test
    void eventPagesStartAfterTheGivenSequenceAndHoldAtMostTheLimit() {
        String id = endedJob("pages-" + UUID.randomUUID().toString().substring(0, 8));
        for (int i = 0; i < 25; i++) {
            jobs.appendEvent(
                    id,
                    sequence -> new TrainingEvent(
                            id,
                            sequence,
                            TrainingEventKind.STATE,
                            JobState.SUCCEEDED,
                            "event " + sequence,
                            null,
                            Instant.now()));
        }

        List<Long> walked = new ArrayList<>();
        long after = 0;
        while (true) {
            List<Long> page = given().get("/api/jobs/{id}/events?after={after}&limit=7", id, after)
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath()
                    .getList("sequence", Long.class);
            assertThat(page.size()).isLessThanOrEqualTo(7);
            if (page.isEmpty()) {
                break;
            }
            walked.addAll(page);
            after = page.get(page.size() - 1);
        }
        assertThat(walked)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 25).boxed().toList());
        assertThat(given().get("/api/jobs/{id}/events?after=20&limit=3", id)
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("sequence", Long.class))
                .containsExactly(21L, 22L, 23L);
    }

    @Test
    void jobPagesWalkEveryJobOnceInIdOrderFollowingTheNextLink() {
        String run = "walk-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> mine = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            mine.add(endedJob(run + "-" + i));
        }

        List<String> walked = new ArrayList<>();
        String next = "/api/jobs?limit=2";
        while (next != null) {
            Response page = given().get(next).then().statusCode(200).extract().response();
            List<String> ids = page.jsonPath().getList("id", String.class);
            assertThat(ids.size()).isLessThanOrEqualTo(2);
            walked.addAll(ids);
            String link = page.header("Link");
            next = link == null ? null : URI_IN_LINK.matcher(link).replaceAll("$1");
            if (next != null) {
                assertThat(link).endsWith("rel=\"next\"");
                next = java.net.URI.create(next).getRawPath() + "?"
                        + java.net.URI.create(next).getRawQuery();
            }
        }
        assertThat(walked).isSorted().doesNotHaveDuplicates().containsAll(mine);
        assertThat(given().get("/api/jobs?limit=3&after={after}", run + "-1")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("id", String.class))
                .startsWith(run + "-2", run + "-3", run + "-4");
    }

    private static final java.util.regex.Pattern URI_IN_LINK = java.util.regex.Pattern.compile("^<([^>]*)>.*$");

    @Test
    void aPageRequestOutOfRangeIsRefusedNamingTheParameterAndValue() {
        String id = endedJob("bad-page-" + UUID.randomUUID().toString().substring(0, 8));
        given().get("/api/jobs?limit=0")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("detail", containsString("query parameter limit must be 1..1000, got 0"));
        given().get("/api/jobs/{id}/events?limit=5000", id)
                .then()
                .statusCode(400)
                .body("detail", containsString("query parameter limit must be 1..1000, got 5000"));
        given().get("/api/jobs/{id}/events?after=-3", id)
                .then()
                .statusCode(400)
                .body("detail", containsString("query parameter after must be an event sequence number >= 0, got -3"));
        given().get("/api/jobs?after=..%2Fx")
                .then()
                .statusCode(400)
                .body("detail", containsString("query parameter after must be a job id"));
    }

    /** A job record in a terminal state, so no worker or reaper touches it. */
    private String endedJob(String id) {
        assertThat(jobs.create(Fixtures.jobRecord(id, JobState.SUCCEEDED, Map.of(), Instant.now())))
                .isTrue();
        return id;
    }
}
