// libpq, PostgreSQL's C client (Debian's libpq-dev). Only the header: nothing else lives here.
#include <libpq-fe.h>
