/* mailoutctl auth passwd USER and web passwd USER: one line for [auth]
 * passwd or [web] admins (the same format, auth/pwfile.h). */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "auth/pwfile.h"

/* One line from stdin, without echo when it is a terminal. */
static bool
read_password(char *pw, size_t size)
{
	struct termios old, quiet;
	bool is_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

	if (is_tty) {
		fputs("password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	bool ok = fgets(pw, (int)size, stdin) != NULL;
	if (is_tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputs("\n", stderr);
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	return ok;
}

/* what: "auth" or "web"; file: the key the line is for. */
static int
passwd_command(int argc, char **argv, const char *what, const char *file)
{
	char pw[256], line[PWFILE_NAME_MAX + PWFILE_HASH_MAX + 2];

	if (argc != 3 || strcmp(argv[1], "passwd") != 0) {
		fprintf(stderr,
		        "usage: mailoutctl %s passwd USER   (reads the password from stdin,\n"
		        "       prints a user:yescrypt-hash line for %s)\n",
		        what, file);
		return 2;
	}
	if (!pwfile_name_valid(argv[2])) {
		fprintf(stderr,
		        "mailoutctl: the user name must be shorter than %d characters of printable "
		        "ASCII, without spaces or ':', and not start with '#'\n",
		        PWFILE_NAME_MAX);
		return 2;
	}
	if (!read_password(pw, sizeof(pw)) || strlen(pw) < 8) {
		fprintf(stderr, "mailoutctl: give a password of at least 8 characters\n");
		return 1;
	}
	bool ok = pwfile_make_line(argv[2], pw, line, sizeof(line));
	memset(pw, 0, sizeof(pw));
	if (!ok) {
		fprintf(stderr, "mailoutctl: libcrypt could not make a yescrypt hash\n");
		return 1;
	}
	printf("%s\n", line);
	return 0;
}

int
ctl_web(int argc, char **argv)
{
	return passwd_command(argc, argv, "web", "[web] admins");
}

int
ctl_auth(int argc, char **argv)
{
	return passwd_command(argc, argv, "auth", "[auth] passwd");
}
