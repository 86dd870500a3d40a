package dev.finetune.console.services;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServiceClientTest {
    @Test
    void theNextPageIsTheLinkWhoseRelationIsNext() {
        assertThat(ServiceClient.nextLink(List.of("<http://t/api/jobs?limit=100&after=ftjob-9>; rel=\"next\"")))
                .isEqualTo(URI.create("http://t/api/jobs?limit=100&after=ftjob-9"));
        assertThat(ServiceClient.nextLink(
                        List.of("<http://t/a?after=1>; rel=\"prev\", <http://t/a?after=3>; rel=next")))
                .isEqualTo(URI.create("http://t/a?after=3"));
        assertThat(ServiceClient.nextLink(List.of("<http://t/a?after=1>; rel=\"prev\"")))
                .isNull();
        assertThat(ServiceClient.nextLink(List.of())).isNull();
    }
}
