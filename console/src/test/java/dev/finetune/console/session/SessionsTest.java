package dev.finetune.console.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.security.Roles;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class SessionsTest {
    private static final String KEY = "viewer-token-0123456789abcdef";

    /** A clock the test moves. */
    private static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    private final TestClock clock = new TestClock();
    private final Sessions sessions = new Sessions(Duration.ofMinutes(30), clock);

    @Test
    void aSessionIsFoundByItsIdAndKeepsTheKeyOnTheServer() {
        Session session = sessions.open(KEY, "vic", Roles.VIEWER);

        assertThat(sessions.find(session.id()))
                .get()
                .extracting(Session::apiKey)
                .isEqualTo(KEY);
        assertThat(session.id()).isNotEqualTo(session.csrfToken()).hasSizeGreaterThanOrEqualTo(43);
        assertThat(session.toString()).doesNotContain(KEY, session.id(), session.csrfToken());
        assertThat(sessions.find("forged")).isEmpty();
        assertThat(sessions.find(null)).isEmpty();
    }

    @Test
    void expiredSessionsLeaveMemoryAtTheNextSignIn() {
        for (int i = 0; i < 100; i++) {
            sessions.open(KEY, "vic", Roles.VIEWER); // signed in, never came back
        }
        clock.now = clock.now.plus(Duration.ofMinutes(20));
        Session recent = sessions.open(KEY, "ann", Roles.OPERATOR);
        assertThat(sessions.held()).isEqualTo(101);

        clock.now = clock.now.plus(Duration.ofMinutes(11));
        sessions.open(KEY, "bob", Roles.ADMIN);
        assertThat(sessions.held()).as("the 100 idle for 31 minutes are gone").isEqualTo(2);
        assertThat(sessions.find(recent.id())).isPresent();
    }

    @Test
    void aSessionUnusedLongerThanTheIdleTimeoutIsGoneAndUseKeepsItAlive() {
        Session session = sessions.open(KEY, "vic", Roles.VIEWER);
        clock.now = clock.now.plus(Duration.ofMinutes(29));
        assertThat(sessions.find(session.id())).isPresent();
        clock.now = clock.now.plus(Duration.ofMinutes(29));
        assertThat(sessions.find(session.id())).isPresent();
        clock.now = clock.now.plus(Duration.ofMinutes(31));

        assertThat(sessions.find(session.id())).isEmpty();
        assertThatThrownBy(() -> sessions.require(session.id())).isInstanceOf(NotSignedInException.class);
    }

    @Test
    void aPostNeedsTheSessionsCsrfToken() {
        Session session = sessions.open(KEY, "olga", Roles.OPERATOR);

        assertThat(sessions.requireForPost(session.id(), session.csrfToken(), Roles.OPERATOR))
                .isEqualTo(sessions.find(session.id()).orElseThrow());
        assertThatThrownBy(() -> sessions.requireForPost(session.id(), null, Roles.VIEWER))
                .isInstanceOf(RefusedException.class)
                .hasMessageContaining("CSRF");
        Session other = sessions.open(KEY, "olga", Roles.OPERATOR);
        assertThatThrownBy(() -> sessions.requireForPost(session.id(), other.csrfToken(), Roles.VIEWER))
                .isInstanceOf(RefusedException.class)
                .hasMessageContaining("CSRF");
    }

    @Test
    void aPostNeedsARoleThatIncludesTheLeastOneItNeeds() {
        Session viewer = sessions.open(KEY, "vic", Roles.VIEWER);
        Session admin = sessions.open(KEY, "ada", Roles.ADMIN);

        assertThatThrownBy(() -> sessions.requireForPost(viewer.id(), viewer.csrfToken(), Roles.OPERATOR))
                .isInstanceOf(RefusedException.class)
                .hasMessage("this needs the role 'operator'; vic has the role 'viewer'");
        assertThat(sessions.requireForPost(admin.id(), admin.csrfToken(), Roles.OPERATOR)
                        .principal())
                .isEqualTo("ada");
    }

    @Test
    void signingOutForgetsTheSession() {
        Session session = sessions.open(KEY, "vic", Roles.VIEWER);
        sessions.close(session.id());
        assertThat(sessions.find(session.id())).isEmpty();
    }

    @Test
    void aSessionMayWhatItsRoleIncludesAndARoleTheServicesDoNotKnowOpensNone() {
        Session operator = sessions.open(KEY, "olga", Roles.OPERATOR);
        assertThat(operator.may(Roles.VIEWER)).isTrue();
        assertThat(operator.may(Roles.OPERATOR)).isTrue();
        assertThat(operator.may(Roles.ADMIN)).isFalse();
        assertThatThrownBy(() -> sessions.open(KEY, "vic", "root")).hasMessageContaining("'root'");
    }
}
