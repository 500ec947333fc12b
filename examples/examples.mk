# examples/examples.mk - the demo and the studies (included by the Makefile)
DEMO := demo
DEMO_FLAGS := --arch dcgan --size 64 --channels 1 --width 0.25 --batch 32 --epochs 100 \
  --lr-d 1e-4 --lr-g 2e-4 --label-smooth 0.1 --adam pytorch --sample-every 10 --ckpt-every 10

# demo: phantom X-rays, a small GAN trained on them (minutes), 64 generated PNGs in demo/
# (GOMP_SPINCOUNT=10000 unless a wait policy is set: on a busy machine libgomp's
# default spinning made training several times slower; docs/speed.md)
DEMO_ENV := $(if $(GOMP_SPINCOUNT)$(OMP_WAIT_POLICY),,GOMP_SPINCOUNT=10000)
demo: $(B)/phantom $(B)/train $(B)/generate
	@test -n "$(strip $(DEMO))" || { echo "make demo: DEMO is empty; give a folder (demo)"; exit 2; }
	rm -rf $(DEMO)/phantom $(DEMO)/run $(DEMO)/generated   # (phantom and train refuse to mix with an earlier run)
	$(B)/phantom --out $(DEMO)/phantom --normal 320 --pneumonia 920 --size 128
	$(DEMO_ENV) $(B)/train --data $(DEMO)/phantom/train --class NORMAL --out $(DEMO)/run $(DEMO_FLAGS)
	$(B)/generate --checkpoint $(DEMO)/run/checkpoint.safetensors --count 64 --out $(DEMO)/generated

# study: at how many real NORMAL images do synthetic ones help a pneumonia classifier?
# (examples/study.sh, docs/study.md). `make study`: the reduced learning curve (10 and 50
# patients, 3 splits; about 45 minutes on 2 cores); `make study-full`: 10, 25, 50, 100, all
# (61-95 minutes on 2 cores, reuses the reduced curve's steps). DATA=DIR (../shared/data/kermany224 when
# present, else built-in phantoms), OUT, CLASSES, RARE, PATIENTS; resumable.
STUDY_PROGS := $(B)/phantom $(B)/train $(B)/generate $(B)/classify $(B)/study_report
study: $(STUDY_PROGS)
	B=$(B) bash examples/study.sh
# study-full: the whole learning curve (10, 25, 50, 100, all patients; 61-95 minutes; docs/study.md)
study-full: $(STUDY_PROGS)
	B=$(B) SIZES=10,25,50,100,all bash examples/study.sh

# small-data: does DiffAugment / ADA / an averaged G help a DCGAN on 50 or all train NORMAL X-rays?
# (examples/small_data.sh; DATA=DIR (../shared/data/kermany224 when present, else built-in
# phantoms), OUT, CLASSES, RARE, PATIENTS; about 55-80 minutes on 2 cores; resumable)
small-data: $(B)/train $(B)/generate $(B)/classify $(B)/fid
	B=$(B) bash examples/small_data.sh
