package dev.finetune.dataset.prepare;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PreparationPoolTest {

    @Test
    void aLongPreparationDoesNotHoldUpAnotherDataset() throws Exception {
        try (PreparationPool pool = new PreparationPool(2, "test")) {
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Void> large = pool.submit("large", () -> await(release));
            CompletableFuture<Void> small = pool.submit("small", () -> {});

            small.get(5, TimeUnit.SECONDS);
            assertThat(large).isNotDone();
            release.countDown();
            large.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void versionsOfOneDatasetRunInTheOrderTheyArrived() throws Exception {
        try (PreparationPool pool = new PreparationPool(4, "test")) {
            CountDownLatch release = new CountDownLatch(1);
            List<String> order = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> first = pool.submit("ds", () -> {
                await(release);
                order.add("v1");
            });
            CompletableFuture<Void> second = pool.submit("ds", () -> order.add("v2"));
            CompletableFuture<Void> other = pool.submit("other", () -> order.add("other"));

            other.get(5, TimeUnit.SECONDS);
            Thread.sleep(100); // v2 would have run by now if it did not wait for v1
            assertThat(order).containsExactly("other");
            release.countDown();
            CompletableFuture.allOf(first, second).get(5, TimeUnit.SECONDS);
            assertThat(order).containsExactly("other", "v1", "v2");
        }
    }

    @Test
    void aFailedVersionDoesNotStopTheNextOne() throws Exception {
        try (PreparationPool pool = new PreparationPool(1, "test")) {
            CompletableFuture<Void> failing = pool.submit("ds", () -> {
                throw new IllegalStateException("boom");
            });
            CompletableFuture<Void> next = pool.submit("ds", () -> {});

            next.get(5, TimeUnit.SECONDS);
            assertThat(failing).isCompletedExceptionally();
        }
    }

    @Test
    void submitWaitsWhileThePoolIsFull() throws Exception {
        try (PreparationPool pool = new PreparationPool(1, "test")) {
            CountDownLatch release = new CountDownLatch(1);
            pool.submit("a", () -> await(release));
            pool.submit("b", () -> {}); // accepted: two per thread
            CompletableFuture<Void> third = CompletableFuture.runAsync(() -> {
                try {
                    pool.submit("c", () -> {});
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(200);
            assertThat(third).isNotDone();
            release.countDown();
            third.get(5, TimeUnit.SECONDS);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
