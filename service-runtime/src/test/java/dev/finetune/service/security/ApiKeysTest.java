package dev.finetune.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
    private static final String TOKEN = "0123456789abcdef01234567";

    @Test
    void tokenMapsToItsPrincipalAndRole() {
        ApiKeys keys = new ApiKeys(true, List.of("ci:operator:" + TOKEN, "alice:admin:" + TOKEN.replace('0', 'x')));
        assertThat(keys.callerOf(TOKEN)).contains(new ApiKeys.Caller("ci", "operator"));
        assertThat(keys.callerOf(TOKEN.replace('0', 'x'))).contains(new ApiKeys.Caller("alice", "admin"));
        assertThat(keys.callerOf("wrong-token-wrong-token!")).isEmpty();
    }

    @Test
    void aTokenMayContainColons() {
        ApiKeys keys = new ApiKeys(true, List.of("ci:viewer:" + TOKEN + ":more"));
        assertThat(keys.callerOf(TOKEN + ":more")).contains(new ApiKeys.Caller("ci", "viewer"));
    }

    @Test
    void entryWithoutARoleStopsTheServiceNamingTheEntryNotTheToken() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of("ci:viewer:" + TOKEN, "bob:" + TOKEN)))
                .hasMessageContaining("entry 2")
                .hasMessageContaining("principal:role:token")
                .hasMessageContaining("it has no role")
                .hasMessageContaining("viewer, operator, admin")
                .hasMessageNotContaining(TOKEN);
    }

    @Test
    void unknownRoleIsNamedWithTheEntry() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of("bob:root:" + TOKEN)))
                .hasMessageContaining("entry 1 ('bob') has the role 'root'")
                .hasMessageNotContaining(TOKEN);
    }

    @Test
    void aTokenInTheRolesPlaceIsNotShown() {
        // principal:token:token-again, e.g. a key pasted twice: the middle part is a secret too
        assertThatThrownBy(() -> new ApiKeys(true, List.of("bob:" + TOKEN + ":" + TOKEN)))
                .hasMessageContaining("entry 1")
                .hasMessageNotContaining(TOKEN);
    }

    @Test
    void securityOnWithoutKeysStopsTheServiceNamingTheSetting() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of()))
                .hasMessageContaining("pipeline.security.api-keys is empty")
                .hasMessageContaining("PIPELINE_SECURITY_API_KEYS");
    }

    @Test
    void shortTokenIsRefusedWithoutShowingIt() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of("bob:viewer:short-secret")))
                .hasMessageContaining("'bob'")
                .hasMessageContaining("at least 24")
                .hasMessageNotContaining("short-secret");
    }

    @Test
    void malformedEntryIsReportedByPositionWithoutItsContent() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of("ci:admin:" + TOKEN, "no-colon-" + TOKEN)))
                .hasMessageContaining("entry 2")
                .hasMessageNotContaining(TOKEN);
    }

    @Test
    void principalListedTwiceIsRefused() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of("ci:admin:" + TOKEN, "ci:viewer:" + TOKEN + "x")))
                .hasMessageContaining("'ci' twice");
    }

    @Test
    void securityOffNeedsNoKeys() {
        assertThat(new ApiKeys(false, List.of()).enabled()).isFalse();
    }
}
