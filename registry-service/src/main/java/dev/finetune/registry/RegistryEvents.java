package dev.finetune.registry;

import dev.finetune.events.RegistryAction;
import dev.finetune.events.RegistryEvent;
import dev.finetune.service.messaging.CloudEventMessages;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

/**
 * Publishes every registry change on {@code registry.events}, keyed by model name. Event ids are
 * derived from the change (e.g. {@code alias_set:<model>:<alias>:<revision>}), so a change announced
 * again after a crash carries the id of the first announcement and consumers drop it.
 */
@ApplicationScoped
public class RegistryEvents {
    private final CloudEventMessages messages;
    private final Emitter<RegistryEvent> emitter;

    RegistryEvents(CloudEventMessages messages, @Channel("registry-events-out") Emitter<RegistryEvent> emitter) {
        this.messages = messages;
        this.emitter = emitter;
    }

    /**
     * Sends one change and waits for the broker's acknowledgement.
     *
     * @param detail what makes the change unique besides model, version and action (e.g. the alias
     *     revision), or null
     */
    public void publish(
            String model,
            long version,
            RegistryAction action,
            String alias,
            Long previousVersion,
            String actor,
            String jobId,
            String detail) {
        RegistryEvent event =
                new RegistryEvent(model, version, action, alias, previousVersion, actor, jobId, Instant.now());
        String id = action.code() + ":" + model + ":" + version + (detail == null ? "" : ":" + detail);
        CompletableFuture<Void> done = new CompletableFuture<>();
        emitter.send(messages.of(event, id)
                .withAck(() -> {
                    done.complete(null);
                    return done;
                })
                .withNack(failure -> {
                    done.completeExceptionally(failure);
                    return done;
                }));
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing " + id, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the broker did not acknowledge " + id + ": " + e.getMessage(), e);
        }
    }
}
