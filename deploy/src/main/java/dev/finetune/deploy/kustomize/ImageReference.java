package dev.finetune.deploy.kustomize;

/** Container image references split as kustomize does: {@code name[:tag][@digest]}. */
final class ImageReference {
    private ImageReference() {}

    /** The reference with the override applied, or null when its name is not the override's. */
    static String override(String reference, Kustomization.ImageOverride image) {
        String name = reference;
        String digest = "";
        int at = name.indexOf('@');
        if (at >= 0) {
            digest = name.substring(at + 1);
            name = name.substring(0, at);
        }
        String tag = "";
        int colon = name.lastIndexOf(':');
        if (colon > name.lastIndexOf('/')) {
            tag = name.substring(colon + 1);
            name = name.substring(0, colon);
        }
        if (!name.equals(image.name())) {
            return null;
        }
        if (image.newName() != null) {
            name = image.newName();
        }
        if (image.newTag() != null) {
            tag = image.newTag();
            digest = image.digest() == null ? "" : image.digest();
        } else if (image.digest() != null) {
            tag = "";
            digest = image.digest();
        }
        return name + (tag.isEmpty() ? "" : ":" + tag) + (digest.isEmpty() ? "" : "@" + digest);
    }
}
