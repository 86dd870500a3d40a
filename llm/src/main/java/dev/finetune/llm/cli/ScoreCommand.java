package dev.finetune.llm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.llm.inference.Scorer;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llm score}: the log-probability of each token given the tokens before it, as one line of
 * JSON. With {@code --ids} the tokenizer is never loaded, so a directory holding only config.json
 * and the weights is enough. With {@code --adapter} the scores are those of the model with the LoRA
 * adapter applied.
 */
@Command(
        name = "score",
        mixinStandardHelpOptions = true,
        header = "Prints the log-probability of each token given the ones before it, as JSON.",
        description = {
            "Prints {\"tokens\":[...],\"logprobs\":[null, ...]}: logprobs[i] = log p(token i | tokens 0..i-1).",
            "The first token has no context, so logprobs[0] is null."
        })
final class ScoreCommand implements Callable<Integer> {
    private static final Pattern ID_LIST = Pattern.compile("\\s*\\d+\\s*(,\\s*\\d+\\s*)*");

    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions models;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "Text, tokenized with the model's tokenizer.")
        private String text;

        @Option(names = "--ids", paramLabel = "IDS", description = "Token ids, comma-separated: 1,5,9.")
        private String ids;
    }

    @Override
    public Integer call() throws Exception {
        ModelDirectory directory = ModelDirectory.open(spec, models.model);
        Optional<AdapterDirectory> adapterDirectory = AdapterDirectory.open(spec, models.adapter);
        long[] tokens = input.ids != null ? parseIds(input.ids) : tokenize(input.text);
        directory.requireInVocabulary(tokens, input.ids != null ? "--ids" : "--text");
        float[] logProbs;
        try (CausalLm lm = CausalLm.load(directory.path(), CausalLm.preferredDevice(), models.storage())) {
            if (adapterDirectory.isPresent()) {
                adapterDirectory.get().applyTo(lm, models.storage());
            }
            logProbs = Scorer.tokenLogProbs(lm, List.of(tokens)).get(0);
        }
        spec.commandLine().getOut().println(toJson(tokens, logProbs));
        spec.commandLine().getOut().flush();
        return 0;
    }

    private long[] parseIds(String text) {
        if (!ID_LIST.matcher(text).matches()) {
            throw new ParameterException(
                    spec.commandLine(), "--ids: '" + text + "' is not a comma-separated list of token ids");
        }
        try {
            return Arrays.stream(text.split(","))
                    .mapToLong(id -> Long.parseLong(id.trim()))
                    .toArray();
        } catch (NumberFormatException e) {
            throw new ParameterException(
                    spec.commandLine(), "--ids: '" + text + "' holds a number too large to be a token id");
        }
    }

    private long[] tokenize(String text) throws Exception {
        int[] ids;
        try (Tokenizer tokenizer = Tokenizer.load(models.model)) {
            ids = tokenizer.encode(text, true);
        }
        if (ids.length == 0) {
            throw new ParameterException(spec.commandLine(), "--text: '" + text + "' encodes to no tokens");
        }
        return Arrays.stream(ids).asLongStream().toArray();
    }

    static String toJson(long[] tokens, float[] logProbs) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ArrayNode tokenArray = root.putArray("tokens");
        Arrays.stream(tokens).forEach(tokenArray::add);
        ArrayNode logProbArray = root.putArray("logprobs");
        logProbArray.addNull(); // the first token has no context
        for (float logProb : logProbs) {
            logProbArray.add(logProb);
        }
        return root.toString();
    }
}
