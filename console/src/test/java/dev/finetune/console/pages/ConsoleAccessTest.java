package dev.finetune.console.pages;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.not;

import dev.finetune.console.session.Session;
import dev.finetune.console.session.SessionCookie;
import dev.finetune.console.session.Sessions;
import dev.finetune.security.Roles;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/**
 * The console's own checks, before any service is asked: no session, no page; no CSRF token or too
 * small a role, no post. The test profile points the console at services that do not run, so a
 * request that gets past these checks shows the "service is down" page instead.
 */
@QuarkusTest
class ConsoleAccessTest {
    private static final String KEY = "operator-token-0123456789abcdef";

    @Inject
    Sessions sessions;

    @Test
    void everyPageSendsABrowserWithoutASessionToSignIn() {
        for (String page : new String[] {
            "/jobs",
            "/jobs/job-1",
            "/datasets",
            "/models",
            "/models/m",
            "/models/m/versions/1",
            "/models/m/versions/1/files/adapter_model.safetensors"
        }) {
            given().redirects().follow(false).get(page).then().statusCode(303).header("Location", endsWith("/sign-in"));
        }
        given().redirects()
                .follow(false)
                .cookie(SessionCookie.NAME, "forged")
                .get("/jobs")
                .then()
                .statusCode(303);
        given().get("/sign-in").then().statusCode(200).body(containsString("<label for=\"apiKey\">"));
    }

    @Test
    void aPostWithoutTheSessionsCsrfTokenIsRefusedBeforeAnyServiceIsAsked() {
        Session operator = sessions.open(KEY, "olga", Roles.OPERATOR);
        given().cookie(SessionCookie.NAME, operator.id())
                .formParam("csrf", "guessed")
                .post("/jobs/job-1/cancel")
                .then()
                .statusCode(403)
                .body(containsString("CSRF token does not match"));
        given().cookie(SessionCookie.NAME, operator.id())
                .formParam("csrf", "")
                .post("/sign-out")
                .then()
                .statusCode(403);
    }

    @Test
    void aViewerSeesNoCancelAndItsPostIsRefusedAndAnOperatorsPostReachesTheService() {
        Session viewer = sessions.open(KEY, "vic", Roles.VIEWER);
        given().cookie(SessionCookie.NAME, viewer.id())
                .formParam("csrf", viewer.csrfToken())
                .post("/jobs/job-1/cancel")
                .then()
                .statusCode(403)
                .body(containsString("needs the role &#39;operator&#39;"), not(containsString("training-service")));

        Session operator = sessions.open(KEY, "olga", Roles.OPERATOR);
        given().cookie(SessionCookie.NAME, operator.id())
                .formParam("csrf", operator.csrfToken())
                .post("/jobs/job-1/cancel")
                .then()
                .statusCode(503)
                .body(containsString("training-service is down"));
    }

    @Test
    void anUploadNeedsTheCsrfTokenAndAnOperatorAndAnOperatorsReachesTheDatasetService() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("upload", ".jsonl");
        java.nio.file.Files.writeString(file, "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
        Session viewer = sessions.open(KEY, "vic", Roles.VIEWER);
        Session operator = sessions.open(KEY, "olga", Roles.OPERATOR);

        given().cookie(SessionCookie.NAME, operator.id())
                .multiPart("csrf", "guessed")
                .multiPart("name", "notes")
                .multiPart("file", file.toFile())
                .post("/datasets")
                .then()
                .statusCode(403)
                .body(containsString("CSRF token does not match"));
        given().cookie(SessionCookie.NAME, viewer.id())
                .multiPart("csrf", viewer.csrfToken())
                .multiPart("name", "notes")
                .multiPart("file", file.toFile())
                .post("/datasets")
                .then()
                .statusCode(403)
                .body(containsString("needs the role &#39;operator&#39;"), not(containsString("dataset-service")));
        given().cookie(SessionCookie.NAME, operator.id())
                .multiPart("csrf", operator.csrfToken())
                .multiPart("name", "notes")
                .multiPart("format", "prompt_completion")
                .multiPart("file", file.toFile())
                .post("/datasets")
                .then()
                .statusCode(503)
                .body(containsString("dataset-service is down"));
        java.nio.file.Files.delete(file);
    }

    @Test
    void aServiceThatIsDownIsNamedOnThePageNotAStackTrace() {
        Session viewer = sessions.open(KEY, "vic", Roles.VIEWER);
        given().cookie(SessionCookie.NAME, viewer.id())
                .get("/datasets")
                .then()
                .statusCode(503)
                .body(containsString("dataset-service is down"), not(containsString("Exception")));
    }

    @Test
    void signingOutClearsTheCookieAndForgetsTheSession() {
        Session viewer = sessions.open(KEY, "vic", Roles.VIEWER);
        given().redirects()
                .follow(false)
                .cookie(SessionCookie.NAME, viewer.id())
                .formParam("csrf", viewer.csrfToken())
                .post("/sign-out")
                .then()
                .statusCode(303)
                .header("Set-Cookie", containsString("Max-Age=0"));
        given().redirects()
                .follow(false)
                .cookie(SessionCookie.NAME, viewer.id())
                .get("/jobs")
                .then()
                .statusCode(303);
    }
}
