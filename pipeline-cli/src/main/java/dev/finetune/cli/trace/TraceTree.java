package dev.finetune.cli.trace;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** The spans of one trace seen as a tree. */
public final class TraceTree {
    private TraceTree() {}

    /**
     * Spans whose parent is not among {@code spans}. A complete trace started by an outside caller
     * (an upstream event, a request) has exactly one: the span that continued the caller's context.
     * More means parents are still on their way (a span is exported when it ends, parents last) or
     * were lost.
     */
    public static List<CollectedSpan> orphans(List<CollectedSpan> spans) {
        Set<String> ids = spans.stream().map(CollectedSpan::spanId).collect(Collectors.toSet());
        return spans.stream().filter(s -> !ids.contains(s.parentSpanId())).toList();
    }

    /** The services that exported spans of the trace. */
    public static Set<String> services(List<CollectedSpan> spans) {
        return spans.stream().map(CollectedSpan::service).collect(Collectors.toSet());
    }
}
