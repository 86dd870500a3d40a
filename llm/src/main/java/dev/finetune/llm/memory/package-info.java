/**
 * What a model costs in memory before it is loaded: parameter counts by storage ({@link
 * dev.finetune.llm.memory.ModelSize}), the memory a worker may use ({@link
 * dev.finetune.llm.memory.WorkerMemory}) and the storage a service picks when a job does not say.
 */
package dev.finetune.llm.memory;
