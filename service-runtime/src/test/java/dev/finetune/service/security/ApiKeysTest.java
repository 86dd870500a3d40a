package dev.finetune.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
    private static final String TOKEN = "0123456789abcdef01234567";

    @Test
    void tokenMapsToItsPrincipal() {
        ApiKeys keys = new ApiKeys(true, List.of("ci:" + TOKEN, "alice:" + TOKEN.replace('0', 'x')));
        assertThat(keys.principalOf(TOKEN)).contains("ci");
        assertThat(keys.principalOf(TOKEN.replace('0', 'x'))).contains("alice");
        assertThat(keys.principalOf("wrong-token-wrong-token!")).isEmpty();
    }

    @Test
    void securityOnWithoutKeysStopsTheServiceNamingTheSetting() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of()))
                .hasMessageContaining("pipeline.security.api-keys is empty")
                .hasMessageContaining("PIPELINE_SECURITY_API_KEYS");
    }

    @Test
    void shortTokenIsRefusedWithoutShowingIt() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of("bob:short-secret")))
                .hasMessageContaining("'bob'")
                .hasMessageContaining("at least 24")
                .hasMessageNotContaining("short-secret");
    }

    @Test
    void malformedEntryIsReportedByPositionWithoutItsContent() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of("ci:" + TOKEN, "no-colon-" + TOKEN)))
                .hasMessageContaining("entry 2")
                .hasMessageNotContaining(TOKEN);
    }

    @Test
    void principalListedTwiceIsRefused() {
        assertThatThrownBy(() -> new ApiKeys(true, List.of("ci:" + TOKEN, "ci:" + TOKEN + "x")))
                .hasMessageContaining("'ci' twice");
    }

    @Test
    void securityOffNeedsNoKeys() {
        assertThat(new ApiKeys(false, List.of()).enabled()).isFalse();
    }
}
