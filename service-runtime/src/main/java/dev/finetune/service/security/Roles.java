package dev.finetune.service.security;

/**
 * The role names, for the services' {@code @RolesAllowed(Roles.OPERATOR)}: the vocabulary and what a
 * role includes are declared once, in pipeline-contracts' {@link dev.finetune.security.Roles}, which
 * the console uses too. These constants only keep the services' imports working; new code imports
 * {@code dev.finetune.security.Roles}, and this class goes once the services' imports point there.
 */
public final class Roles {
    public static final String VIEWER = dev.finetune.security.Roles.VIEWER;
    public static final String OPERATOR = dev.finetune.security.Roles.OPERATOR;
    public static final String ADMIN = dev.finetune.security.Roles.ADMIN;

    private Roles() {}
}
