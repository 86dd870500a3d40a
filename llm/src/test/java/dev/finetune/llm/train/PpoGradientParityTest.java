package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.model.ValueHead;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.GrpoBatch;
import dev.finetune.llm.objective.PpoBatch;
import dev.finetune.llm.objective.PpoLoss;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * PPO's micro-batch backward pass ({@link PpoBatch#backward}: the LM head in chunks of 5 rows on
 * tempered hidden states, the value head on a detached copy, both gradients sent through the body in one
 * pass, checkpointed layers replayed) gives every parameter, the adapters and the value head, the
 * gradient of the plain computation: the whole logits divided by the temperature, the value head on the
 * recorded hidden states, one backward call. Ratios away from 1 and values away from the rollout's put
 * tokens in every region of both clips.
 */
class PpoGradientParityTest {
    private static final double TOLERANCE = 1e-5;
    private static final float TEMPERATURE = 0.7f;

    private static final List<long[]> PROMPTS = List.of(new long[] {1, 17, 99}, new long[] {1, 64});
    private static final List<long[]> COMPLETIONS = List.of(new long[] {3, 44, 8, 2}, new long[] {77, 9, 10, 11, 2});

    enum Case {
        LORA(Method.LORA, false),
        LORA_CHECKPOINTED(Method.LORA, true),
        QLORA(Method.QLORA, true);

        final Method method;
        final boolean checkpointing;

        Case(Method method, boolean checkpointing) {
            this.method = method;
            this.checkpointing = checkpointing;
        }
    }

    @ParameterizedTest
    @EnumSource(Case.class)
    void chunkedPpoGradientsEqualThePlainOnes(Case c) {
        GrpoBatch rows = GrpoBatch.of(PROMPTS, COMPLETIONS, 0);
        PpoBatch batch = rolloutValues(rows);
        double[] losses = new double[2];
        Map<String, float[]> plain = gradients(c.method, false, (model, head, manager, collector) -> {
            CausalLm lm = model.model();
            PpoLoss loss = new PpoLoss(0.2, 0.2, 0.5, manager);
            NDArray ids = manager.create(rows.ids()); // [B, T]
            NDArray hidden = lm.body().forward(ids, manager.create(rows.paddingMask()), null); // [B, T, C]
            NDArray logits = lm.logits(hidden.mul(manager.create(1 / TEMPERATURE))); // [B, T, V]
            NDArray logProbs = SftLoss.nextTokenLogProbs(logits, ids); // [B, T-1]
            NDArray values = head.forward(hidden).get(new NDIndex(":, :-1")); // [B, T-1]
            NDArray value = loss.loss(
                    logProbs,
                    manager.create(batch.oldLogProbs()),
                    manager.create(batch.advantages()),
                    values,
                    manager.create(batch.oldValues()),
                    manager.create(batch.returns()),
                    rows.mask(manager),
                    manager.create(1f / 9));
            collector.backward(value);
            losses[0] = value.getFloat();
        });
        Map<String, float[]> chunked = gradients(c.method, c.checkpointing, (model, head, manager, collector) -> {
            PpoLoss loss = new PpoLoss(0.2, 0.2, 0.5, manager);
            losses[1] = batch.backward(
                            model.model(),
                            head,
                            new ChunkedLmHead(5),
                            loss,
                            manager.create(1 / TEMPERATURE),
                            manager.create(1f / 9),
                            manager,
                            collector)
                    .loss();
        });
        assertThat(losses[1]).isCloseTo(losses[0], within(TOLERANCE * Math.abs(losses[0])));
        assertThat(chunked.keySet()).isEqualTo(plain.keySet()).contains(ValueHead.WEIGHT, ValueHead.BIAS);
        for (String name : plain.keySet()) {
            float[] e = plain.get(name);
            float[] a = chunked.get(name);
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < e.length; i++) {
                scale = Math.max(scale, Math.abs(e[i]));
                diff = Math.max(diff, Math.abs(a[i] - e[i]));
            }
            assertThat(scale).as("%s: %s has a gradient", c, name).isPositive();
            assertThat(diff).as("%s: %s", c, name).isLessThanOrEqualTo(TOLERANCE * scale);
        }
    }

    /** Old log-probabilities, values, advantages and returns at the completion positions, fixed pseudo-random. */
    private static PpoBatch rolloutValues(GrpoBatch rows) {
        float[][] mask = rows.completionMask();
        SplittableRandom random = new SplittableRandom(13);
        float[][][] blocks = new float[4][mask.length][mask[0].length];
        for (int row = 0; row < mask.length; row++) {
            for (int t = 0; t < mask[row].length; t++) {
                if (mask[row][t] != 0) {
                    blocks[0][row][t] = (float) (-6 + random.nextDouble() * 1.5); // ratios from ~0.3 to ~3 vs log(1/V)
                    blocks[1][row][t] = (float) (random.nextDouble() - 0.5) * 0.6f; // values
                    blocks[2][row][t] = (float) (random.nextDouble() - 0.5) * 2; // advantages
                    blocks[3][row][t] = (float) (random.nextDouble() - 0.5) * 2; // returns
                }
            }
        }
        return new PpoBatch(rows, blocks[0], blocks[1], blocks[2], blocks[3]);
    }

    @FunctionalInterface
    private interface Pass {
        void backward(TrainableModel model, ValueHead head, NDManager manager, GradientCollector collector);
    }

    @SuppressWarnings("try")
    private static Map<String, float[]> gradients(Method method, boolean checkpointing, Pass pass) {
        CausalLm lm = TinyModelGenerator.create(
                TinyModels.config(ModelType.LLAMA), 11, TinyModelGenerator.Initialization.TEST, Device.cpu());
        LoraConfig lora = LoraConfig.defaults().withDropout(0).withTargetModules("all-linear");
        try (TrainableModel model = TrainableModel.prepare(lm, method, lora, 3)) {
            ValueHead head = new ValueHead(lm, 17);
            model.attachValueHead(head);
            SplittableRandom random = new SplittableRandom(5);
            model.parameters().forEach((name, p) -> {
                if (name.contains("lora_B")) {
                    float[] values = new float[Math.toIntExact(p.shape().size())];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = (float) (random.nextDouble() - 0.5) * 0.2f;
                    }
                    p.array().set(values);
                }
            });
            model.setGradientCheckpointing(checkpointing);
            model.setTraining(false);
            try (NDScope ignored = new NDScope();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                pass.backward(model, head, lm.manager(), collector);
            }
            Map<String, float[]> gradients = new LinkedHashMap<>();
            try (NDScope ignored = new NDScope()) {
                for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
                    gradients.put(e.getKey(), e.getValue().array().getGradient().toFloatArray());
                }
            }
            return gradients;
        }
    }
}
