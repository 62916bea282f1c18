# Yardstick (not part of make test): how separable the lab's classes are for a plain random forest.
# Usage: etch data synth -o /tmp/d.csv --flows 20000 --seed 1 && /usr/bin/python3 data/synth/testdata/rf_yardstick.py /tmp/d.csv
# Needs python3-sklearn from Debian. Features: counters and the 48 statistics, plus the first 30 signed sizes.
import csv, sys
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.metrics import classification_report
rows = list(csv.DictReader(open(sys.argv[1])))
skip = {'capture','start_us','end_us','proto','src_ip','dst_ip','src_port','end_reason','sni','alpn','tls_version','ja3','ja3_full','ja3s','ja3s_full','ja4','ja4_r','ja4s','label','service','category','extra','seq_size','seq_payload','seq_iat_us','seq_dir'}
cols = [c for c in rows[0] if c not in skip]
X = np.array([[float(r[c] == 'true') if r[c] in ('true','false') else float(r[c]) for c in cols] for r in rows])
seq = np.array([[float(v) for v in r['seq_size'].split(';')[:30]] for r in rows])
X = np.hstack([X, seq])
y = np.array([r['label'] for r in rows])
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
m = RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=0).fit(Xtr, ytr)
print("accuracy", (m.predict(Xte) == yte).mean())
print(classification_report(yte, m.predict(Xte), digits=3))
