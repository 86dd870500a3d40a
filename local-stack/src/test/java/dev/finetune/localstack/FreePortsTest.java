package dev.finetune.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Ports handed out in one JVM never repeat, though the system may offer a closed probe's port again. */
class FreePortsTest {

    @Test
    void aThousandPortsAreAThousandDistinctPorts() {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            ports.add(FreePorts.find());
        }

        assertThat(ports).hasSize(1000).allSatisfy(port -> assertThat(port).isBetween(1, 65535));
    }
}
