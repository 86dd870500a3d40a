package dev.finetune.localstack;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension for plain library tests: a test method, constructor or {@code @BeforeAll} that
 * declares a {@link LocalStack} parameter gets the JVM's shared stack.
 *
 * <pre>{@code
 * @ExtendWith(LocalStackExtension.class)
 * class ObjectStoreTest {
 *     @BeforeAll static void connect(LocalStack stack) { ... stack.s3Endpoint() ... }
 * }
 * }</pre>
 */
public final class LocalStackExtension implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return SharedLocalStack.get();
    }
}
