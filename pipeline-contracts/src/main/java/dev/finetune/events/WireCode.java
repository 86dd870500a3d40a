package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.finetune.errors.InvalidInputException;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * An enum that goes on the wire by an explicit, stable code, never by name or ordinal, so constants
 * can be renamed or reordered without breaking a consumer.
 */
public interface WireCode {
    /** The code written to JSON. */
    @JsonValue
    String code();

    /** The constant of {@code type} whose code is {@code code}, or an error listing the valid codes. */
    static <E extends Enum<E> & WireCode> E fromCode(Class<E> type, String code) {
        for (E constant : type.getEnumConstants()) {
            if (constant.code().equals(code)) {
                return constant;
            }
        }
        throw new InvalidInputException(type.getSimpleName() + " must be one of "
                + Arrays.stream(type.getEnumConstants()).map(WireCode::code).collect(Collectors.joining(", "))
                + ", got '" + code + "'");
    }
}
