#!/usr/bin/env python3
"""Drives Inspector Gadget's Cortex API with the official client, cortex4py.

analyzers (find_all range=all, get_by_type, get_by_name, get_by_id) → run
(run_by_id, run_by_name with force) → wait (jobs.get_report_async, as
TheHive waits) → report (jobs.get_report), then the job listing and the
errors cortex4py maps from HTTP statuses. Exits non-zero at the first
mismatch. Needs GADGET_CLIENTS_DIR (see checks.py) and the client's own
dependencies: requests and python-magic.

    cortex4py_check.py --url http://127.0.0.1:8080/cortex --key igk_… --ip 203.0.113.45
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Check, add_client  # noqa: E402

LEVELS = {"info", "safe", "suspicious", "malicious"}  # TheHive's ReportTagLevel


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="the Cortex URL as TheHive is given it: <gadget>/cortex")
    p.add_argument("--key", required=True, help="an Inspector Gadget API key with the tasks scope")
    p.add_argument("--ip", required=True, help="an IPv4 address the providers find malicious")
    p.add_argument("--domain", default="login.evil.example", help="a domain to run by analyzer name")
    a = p.parse_args()

    add_client("cortex4py", "cortex4py")
    from cortex4py.api import Api
    from cortex4py.exceptions import AuthenticationError, InvalidInputError, NotFoundError
    from cortex4py.models import Analyzer, Job
    from cortex4py.query import And, Contains, Eq, Gte, In

    c = Check("cortex4py")
    api = Api(a.url, a.key)

    status = api.status().json()
    c.that(status.get("versions", {}).get("Cortex"), "status: versions.Cortex is set", status)

    # the analyzers, as TheHive lists them and as a script picks one
    all_ = api.analyzers.find_all({}, range="all")
    ids = {x.id: x for x in all_}
    c.that(all(isinstance(x, Analyzer) for x in all_) and "gadget_all" in ids,
           "find_all({}, range='all'): %d analyzers with gadget_all" % len(all_), sorted(ids))
    for x in all_:
        c.that(x.name and x.version and x.description and x.dataTypeList and x.maxTlp is not None and x.maxPap is not None,
               "analyzer %s has name, version, description, dataTypeList, maxTlp, maxPap" % x.id, x.json())
    first = api.analyzers.find_all({})
    c.that(len(first) == min(10, len(all_)), "find_all({}) without range: the first ten", len(first))
    for_ip = api.analyzers.get_by_type("ip")
    c.that(for_ip and all("ip" in x.dataTypeList for x in for_ip) and len(for_ip) < len(all_) and "gadget_all" in {x.id for x in for_ip},
           "get_by_type('ip'): %d analyzers, all of them for ip" % len(for_ip), [x.id for x in for_ip])
    by_name = api.analyzers.get_by_name(ids["gadget_all"].name)
    c.that(by_name is not None and by_name.id == "gadget_all", "get_by_name(%r)" % ids["gadget_all"].name, by_name and by_name.json())
    c.that(api.analyzers.get_by_name("NoSuchAnalyzer") is None, "get_by_name of an unknown name is None")
    c.that(len(api.organizations.get_analyzers()) == len(first), "organizations.get_analyzers(): GET analyzer, the first ten")
    c.that(api.responders.find_all({}, range="all") == [] and api.responders.get_by_type("ip") == [], "responders: none")
    by_id = api.analyzers.get_by_id("gadget_all")
    c.that(by_id.name == ids["gadget_all"].name and by_id.dataTypeList == ids["gadget_all"].dataTypeList, "get_by_id('gadget_all')", by_id.json())

    # run → wait → report
    job = api.analyzers.run_by_id("gadget_all", {"data": a.ip, "dataType": "ip", "tlp": 2, "message": "cortex4py check"})
    c.that(isinstance(job, Job) and job.id and job.status in ("Waiting", "InProgress", "Success") and job.workerId == "gadget_all"
           and job.dataType == "ip" and job.data == a.ip and job.tlp == 2 and job.type == "analyzer",
           "run_by_id('gadget_all', ip %s): job %s" % (a.ip, job.id), job.json())
    done = api.jobs.get_report_async(job.id, timeout="1minute")
    c.that(done.id == job.id and done.status == "Success", "get_report_async(%s, '1minute'): Success" % job.id, done.json())
    report = done.report
    c.that(report.get("success") is True, "report.success", report)
    taxonomies = report.get("summary", {}).get("taxonomies", [])
    for t in taxonomies:
        print("cortex4py: taxonomy %s:%s=%s (%s)" % (t.get("namespace"), t.get("predicate"), t.get("value"), t.get("level")))
    c.that(len(taxonomies) >= 2 and all(t.get("level") in LEVELS and t.get("namespace") and t.get("predicate") for t in taxonomies),
           "%d taxonomies, each with a TheHive level, a namespace and a predicate" % len(taxonomies), taxonomies)
    verdict = taxonomies[0]
    c.that(verdict == {**verdict, "level": "malicious", "namespace": "InspectorGadget", "predicate": "Verdict"},
           "the first taxonomy is the malicious verdict", verdict)
    c.that(report.get("full", {}).get("value") == a.ip and isinstance(report.get("artifacts"), list) and isinstance(report.get("operations"), list),
           "report.full.value, artifacts and operations", {k: report.get(k) for k in ("artifacts", "operations")})
    again = api.jobs.get_report(job.id)
    c.that(again.status == "Success" and again.report.get("summary") == report.get("summary"), "get_report(%s) gives the same summary" % job.id, again.json())
    got = api.jobs.get_by_id(job.id)
    c.that(got.id == job.id and got.status == "Success" and got.startDate and got.endDate and got.endDate >= got.startDate,
           "jobs.get_by_id(%s): Success with start and end dates" % job.id, got.json())
    artifacts = api.jobs.get_artifacts(job.id)
    c.that(isinstance(artifacts, list), "jobs.get_artifacts(%s): a list" % job.id, artifacts)

    # run_by_name with force, as a script asking the providers again
    named = api.analyzers.run_by_name(ids["gadget_all"].name, {"data": a.domain, "dataType": "domain", "tlp": 1, "pap": 1}, force=1)
    c.that(named.workerId == "gadget_all" and named.dataType == "domain" and named.tlp == 1 and named.pap == 1,
           "run_by_name(%r, domain, force=1)" % ids["gadget_all"].name, named.json())
    named = api.jobs.get_report_async(named.id)
    c.that(named.status == "Success" and named.report.get("full", {}).get("value") == a.domain,
           "get_report_async(%s) with the default timeout 'Inf'" % named.id, named.json())

    # the job list, newest first, and a search on status and data type
    jobs = api.jobs.find_all({}, range="0-10", sort="-createdAt")
    c.that([j.id for j in jobs[:2]] == [named.id, job.id], "jobs.find_all({}, sort='-createdAt'): newest first", [j.id for j in jobs])
    ok_ip = api.jobs.find_all(And(Eq("status", "Success"), Eq("dataType", "ip")), range="all")
    c.that(job.id in [j.id for j in ok_ip] and named.id not in [j.id for j in ok_ip], "jobs.find_all(status Success and dataType ip)", [j.id for j in ok_ip])
    one = api.jobs.find_one_by(Eq("dataType", "domain"))
    c.that(one is not None and one.id == named.id, "jobs.find_one_by(dataType domain)", one and one.json())

    c.that({j.id for j in api.jobs.find_all(In("dataType", ["ip", "domain"]), range="all")} >= {job.id, named.id}, "jobs.find_all(In dataType ip, domain)")
    since = api.jobs.find_all(Gte("createdAt", named.createdAt), range="all")
    c.that([j.id for j in since] == [named.id], "jobs.find_all(Gte createdAt of the newest job)", [j.id for j in since])
    c.that(api.jobs.find_all(Contains("errorMessage"), range="all") == [], "jobs.find_all(Contains errorMessage): no failed job")

    # the calls cortex4py keeps for Cortex 1 scripts (deprecated, still used)
    c.that({x.id for x in api.get_analyzers("ip")} == {x.id for x in for_ip}, "api.get_analyzers('ip')")
    old = api.run_analyzer(ids["gadget_all"].name, "ip", 2, a.ip)
    old = api.get_job_report(old.id)
    c.that(old.status == "Success" and old.report.get("summary", {}).get("taxonomies", [{}])[0].get("level") == "malicious",
           "api.run_analyzer(name, 'ip', 2, ip) then api.get_job_report", old.json())

    # errors, as cortex4py maps them from HTTP statuses
    c.raises(NotFoundError, "run_by_id of an unknown analyzer: NotFoundError",
             api.analyzers.run_by_id, "no_such_analyzer", {"data": a.ip, "dataType": "ip"})
    c.raises(InvalidInputError, "an invalid IP address: InvalidInputError",
             api.analyzers.run_by_id, "gadget_all", {"data": "999.1.1.1", "dataType": "ip"})
    c.raises(NotFoundError, "jobs.get_by_id of an unknown job: NotFoundError", api.jobs.get_by_id, "no-such-job")
    c.raises(AuthenticationError, "a wrong key: AuthenticationError", Api(a.url, "igk_wrong").analyzers.find_all, {}, range="all")
    c.done()


if __name__ == "__main__":
    main()
