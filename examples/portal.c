/*
 * portal.c - a portal application keeping its records by the privacy
 * statement, with libretention's record store.
 *
 *   cc portal.c $(pkg-config --cflags --libs retention) -o portal
 *   ./portal [DATABASE]
 *
 * It plays a day of the utility's portals in DATABASE (default
 * portal-example.db in the current directory, created anew): the
 * installer portal's access log, the free SMS service with its limit of
 * five SMS a day, a contact request that is handled and then deleted,
 * and an SMS under a legal hold that survives the nightly prune until
 * the hold is released. It checks its own results and exits 0 when they
 * are as the policy says.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retention.h>

#define DAY 86400

/* The policy, as /etc/retention.d/stadtwerke.conf would hold it. */
static const char policy_text[] =
    "policy {\n"
    "    name       \"Datenschutzerklaerung\"\n"
    "    controller \"Stadtwerke Bochum GmbH\"\n"
    "    version    1.3\n"
    "    effective  2012-11-01\n"
    "    schedule   daily\n"
    "}\n"
    "category installer-access {\n"
    "    description \"Installateurportal: Zugriffsprotokoll\"\n"
    "    anonymize   client-ip after 7d prefix 24/48\n"
    "    delete      after 90d\n"
    "}\n"
    "category sms {\n"
    "    description \"Kostenloser SMS-Dienst\"\n"
    "    delete      after 90d\n"
    "}\n"
    "category contact-form {\n"
    "    description \"Kontaktformular\"\n"
    "    delete      after completion\n"
    "}\n";

static int failures;

static void
check(int cond, const char *what)
{
    printf("%s %s\n", cond ? "ok:  " : "FAIL:", what);
    if (!cond)
        failures++;
}

static int
die(const char *what, const ret_error *err)
{
    fprintf(stderr, "portal: %s: %s\n", what, err->message);
    return 2;
}

static uint64_t
count(ret_store *s, const char *category, const char *subject, int64_t since)
{
    uint64_t n = 0;
    ret_error err;

    if (ret_store_count_since(s, category, subject, since, &n, &err) !=
        RET_OK)
        fprintf(stderr, "portal: count: %s\n", err.message);
    return n;
}

/* The SMS service: at most five free SMS per customer and day. */
static int
send_sms(ret_store *s, int64_t now, const char *customer, const char *ip,
         const char *to, const char *text)
{
    ret_store_field f[] = {{"to", to}, {"text", text}};
    ret_error err;

    if (count(s, "sms", customer, now - DAY) >= 5)
        return 0; /* limit reached: not sent */
    if (ret_store_record(s, "sms", now, ip, customer, f, 2, NULL, &err) !=
        RET_OK) {
        fprintf(stderr, "portal: sms: %s\n", err.message);
        return 0;
    }
    return 1;
}

int
main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "portal-example.db";
    char wal[4096], shm[4096];
    ret_policy *policy = NULL;
    ret_store *s = NULL;
    ret_table_result r;
    ret_error err;
    int64_t now = 1796119200; /* 2026-12-01T10:00:00Z, a fixed day */
    int64_t id, hold;
    int i, sent = 0;

    snprintf(wal, sizeof(wal), "%s-wal", path);
    snprintf(shm, sizeof(shm), "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    if (ret_policy_parse(policy_text, strlen(policy_text), "portal.conf",
                         &policy, &err) != RET_OK)
        return die("policy", &err);
    if (ret_store_open(path, policy, &s, &err) != RET_OK)
        return die(path, &err);

    /* Installer portal: logins of an installer over the last months. */
    {
        ret_store_field f[] = {{"user", "installer-17"},
                               {"action", "login"}};
        static const int64_t ages[] = {100 * DAY, 30 * DAY, 8 * DAY, 0};

        for (i = 0; i < 4; i++)
            if (ret_store_record(s, "installer-access", now - ages[i],
                                 "198.51.100.77", "installer-17", f, 2, NULL,
                                 &err) != RET_OK)
                return die("installer-access", &err);
    }

    /* SMS service: customer 4711 tries seven SMS today. */
    for (i = 0; i < 7; i++)
        sent += send_sms(s, now - 3600 + i * 60, "4711", "203.0.113.5",
                         "+49 170 0000000", "Zählerstand bitte ablesen");
    check(sent == 5, "the SMS service sends 5 of 7 SMS in a day");
    check(count(s, "sms", "4711", now - DAY) == 5, "5 SMS are on record");
    check(send_sms(s, now + DAY, "4711", NULL, "+49 170 0000000",
                   "next day") == 1,
          "the next day the customer may send again");

    /* An old SMS under a legal hold after a criminal complaint, and an
     * old one without. */
    if (ret_store_record(s, "sms", now - 95 * DAY, "192.0.2.66", "666", NULL,
                         0, NULL, &err) != RET_OK ||
        ret_store_record(s, "sms", now - 95 * DAY, "192.0.2.67", "667", NULL,
                         0, NULL, &err) != RET_OK)
        return die("sms", &err);
    if (ret_store_hold(s, "666", 0, "Strafanzeige 2026/0815", now - DAY,
                       &hold, &err) != RET_OK)
        return die("hold", &err);

    /* A contact request, handled two days ago, and an open one. */
    {
        ret_store_field f[] = {{"salutation", "Frau"},
                               {"name", "Erika Mustermann"},
                               {"email", "erika@example.org"},
                               {"request", "Bitte um Rückruf"}};

        if (ret_store_record(s, "contact-form", now - 5 * DAY, "192.0.2.10",
                             "erika@example.org", f, 4, &id, &err) != RET_OK ||
            ret_store_complete(s, id, now - 2 * DAY, &err) != RET_OK)
            return die("contact-form", &err);
        if (ret_store_record(s, "contact-form", now - DAY, NULL,
                             "max@example.org", NULL, 0, NULL, &err) !=
            RET_OK)
            return die("contact-form", &err);
    }

    /* The nightly prune. */
    if (ret_store_prune(s, now, 0, &r, &err) != RET_OK)
        return die("prune", &err);
    printf("prune: %" PRIu64 " deleted, %" PRIu64 " anonymized, %" PRIu64
           " held, longest write lock %.1f ms\n",
           r.deleted, r.anonymized, r.held, r.max_lock_ms);
    check(count(s, "installer-access", "installer-17", 0) == 3,
          "the installer access of 100 days ago is deleted");
    check(r.anonymized == 2,
          "the two accesses older than 7 days are anonymized");
    check(count(s, "sms", "666", 0) == 1, "the held SMS survives the prune");
    check(count(s, "sms", "667", 0) == 0, "the unheld old SMS is deleted");
    check(count(s, "contact-form", "erika@example.org", 0) == 0,
          "the handled contact request is deleted");
    check(count(s, "contact-form", "max@example.org", 0) == 1,
          "the open contact request stays");
    check(r.held == 1, "the prune reports one held record");

    /* The authorities are done: the hold is released (and stays on
     * record), the next prune deletes the SMS. */
    if (ret_store_release(s, hold, now + 3600, &err) != RET_OK)
        return die("release", &err);
    if (ret_store_prune(s, now + DAY, 0, &r, &err) != RET_OK)
        return die("prune", &err);
    check(count(s, "sms", "666", 0) == 0,
          "after the release the SMS is deleted");

    /* A customer asks for erasure. */
    if (ret_store_erase(s, "4711", NULL, now + DAY, 0, &r, &err) != RET_OK)
        return die("erase", &err);
    check(r.deleted == 6 && count(s, "sms", "4711", 0) == 0,
          "erasure removes the customer's 6 SMS");

    ret_store_close(s);
    ret_policy_free(policy);
    printf("%s: %s\n", path, failures ? "FAILED" : "all as the policy says");
    return failures ? 1 : 0;
}
