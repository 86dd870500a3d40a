package dev.finetune.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RolesTest {
    @Test
    void aRoleGrantsItselfAndEveryLesserOne() {
        assertThat(Roles.granted(Roles.VIEWER)).containsExactly(Roles.VIEWER);
        assertThat(Roles.granted(Roles.OPERATOR)).containsExactlyInAnyOrder(Roles.VIEWER, Roles.OPERATOR);
        assertThat(Roles.granted(Roles.ADMIN)).containsExactlyInAnyOrder(Roles.VIEWER, Roles.OPERATOR, Roles.ADMIN);
        assertThat(Roles.least(new String[] {Roles.ADMIN, Roles.OPERATOR})).isEqualTo(Roles.OPERATOR);
    }

    @Test
    void aRoleIncludesTheLesserOnesAndANameThatIsNoRoleIncludesNothing() {
        assertThat(Roles.includes(Roles.ADMIN, Roles.OPERATOR)).isTrue();
        assertThat(Roles.includes(Roles.OPERATOR, Roles.OPERATOR)).isTrue();
        assertThat(Roles.includes(Roles.OPERATOR, Roles.ADMIN)).isFalse();
        assertThat(Roles.includes(Roles.VIEWER, Roles.OPERATOR)).isFalse();
        assertThat(Roles.includes("root", Roles.VIEWER)).isFalse();
        assertThat(Roles.includes(null, Roles.VIEWER)).isFalse();
        assertThatThrownBy(() -> Roles.includes(Roles.ADMIN, "superuser"))
                .hasMessage("role must be one of viewer, operator, admin, got 'superuser'");
        assertThat(Roles.parse("operator")).hasValue(Roles.OPERATOR);
        assertThat(Roles.parse("Operator")).isEmpty();
        assertThat(Roles.parse(null)).isEmpty();
    }
}
