package dev.finetune.storage;

import dev.finetune.localstack.LocalStack;

/** The store the storage tests work against: the test stack's S3 server, its test bucket made. */
final class TestStores {
    private TestStores() {}

    static ObjectStore connect(LocalStack localStack) {
        ObjectStore store = new ObjectStore(ObjectStoreConfig.of(
                localStack.s3Endpoint(), localStack.s3AccessKey(), localStack.s3SecretKey(), "pipeline-test"));
        store.ensureBucket();
        return store;
    }
}
