package dev.finetune.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An archive written here is one libtorch loads and runs: its source compiles, its tensor-list
 * attribute starts empty and keeps what a method stores in it, and a method reads it.
 */
class TorchScriptArchiveTest {
    private static final String SOURCE =
            """
            class Scaled(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              w : List[Tensor]
              def set_weights(self, weights: List[Tensor]) -> None:
                self.w = weights
              def count(self) -> int:
                return len(self.w)
              def forward(self, x: Tensor) -> Tensor:
                return torch.add(torch.mul(x, self.w[0]), self.w[1])
            """;

    @Test
    void libtorchLoadsTheModuleAndRunsItsMethodsOnTheTensorsHandedToIt() throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                PtSymbolBlock module = load(manager, SOURCE)) {
            try (IValue empty = IValueUtils.runMethod(module, "count")) {
                assertThat(empty.toLong()).isZero();
            }
            PtNDArray scale = (PtNDArray) manager.create(new float[] {2f, 3f});
            PtNDArray shift = (PtNDArray) manager.create(new float[] {1f, -1f});
            try (IValue weights = IValue.listFrom(scale, shift);
                    IValue ignored = IValueUtils.runMethod(module, "set_weights", weights);
                    IValue count = IValueUtils.runMethod(module, "count")) {
                assertThat(count.toLong()).isEqualTo(2);
            }
            PtNDArray x = (PtNDArray) manager.create(new float[] {10f, 100f});
            try (IValue in = IValue.from(x);
                    IValue out = IValueUtils.runMethod(module, "forward", in)) {
                assertThat(out.toTensor((PtNDManager) manager).toFloatArray()).containsExactly(21f, 299f);
            }
        }
    }

    @Test
    void sourceTheEngineCannotCompileIsRefusedWithItsReason() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            assertThatThrownBy(() -> load(manager, SOURCE.replace("torch.add", "torch.no_such_op")))
                    .isInstanceOf(EngineException.class)
                    .hasMessageContaining("no_such_op");
        }
    }

    private static PtSymbolBlock load(NDManager manager, String source) throws IOException {
        byte[] archive = TorchScriptArchive.write("Scaled", source, List.of("w"));
        return JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(archive), false, false);
    }
}
