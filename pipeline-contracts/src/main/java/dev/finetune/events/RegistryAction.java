package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** What changed in the registry. */
public enum RegistryAction implements WireCode {
    /** A new immutable version was stored. */
    VERSION_REGISTERED("version_registered"),
    /** An alias now points at a version (it may have pointed at another before). */
    ALIAS_SET("alias_set"),
    /** An alias was removed. */
    ALIAS_REMOVED("alias_removed"),
    /** A version was hidden from default listings (it is kept). */
    VERSION_ARCHIVED("version_archived"),
    /** A version's adapter was merged into its base and stored as a full model. */
    MERGED_MODEL_EXPORTED("merged_model_exported");

    private final String code;

    RegistryAction(String code) {
        this.code = code;
    }

    @Override
    public String code() {
        return code;
    }

    @JsonCreator
    public static RegistryAction fromCode(String code) {
        return WireCode.fromCode(RegistryAction.class, code);
    }
}
