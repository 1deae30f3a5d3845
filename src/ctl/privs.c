#include "ctl/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool
ctl_drop_privileges(const struct config *cfg)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return true;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		fprintf(stderr, "mailoutctl: [gateway] user '%s' does not exist\n", cfg->user);
		return false;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "mailoutctl: cannot become %s: %s\n", cfg->user, strerror(errno));
		return false;
	}
	return true;
}

/* As root: the registry's folder, made or checked and given to the user. */
static bool
prepare_dir(const struct config *cfg)
{
	struct passwd *pw;
	char err[512];

	if (geteuid() != 0 || (pw = getpwnam(cfg->user)) == NULL)
		return true; /* ctl_drop_privileges() names a missing user */
	struct safedir_owner own = {true, pw->pw_uid, pw->pw_gid};
	if (!registry_prepare_dir(cfg->registry_db, &own, err, sizeof(err))) {
		fprintf(stderr, "mailoutctl: %s\n", err);
		return false;
	}
	return true;
}

struct registry *
ctl_open_registry(const struct config *cfg)
{
	struct registry *r;
	char err[512];

	if (cfg->registry_db[0] == '\0') {
		fprintf(stderr, "mailoutctl: [registry] database is not set in %s\n", cfg->path);
		return NULL;
	}
	if (!prepare_dir(cfg) || !ctl_drop_privileges(cfg))
		return NULL;
	if ((r = registry_open(cfg->registry_db, 10000, err, sizeof(err))) == NULL)
		fprintf(stderr, "mailoutctl: %s\n", err);
	return r;
}
