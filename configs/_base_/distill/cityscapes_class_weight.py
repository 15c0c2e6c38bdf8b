# The 19 Cityscapes class weights of the reference's stage-2 OHEM loss (the
# same list as in ./cityscapes_rdd.py), for Cityscapes configs that do not
# inherit that base: model.distiller.tse.class_weight.
cityscapes_class_weight = [
    0.8373, 0.918, 0.866, 1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786,
    1.0023, 0.9539, 0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529,
    1.0507
]
