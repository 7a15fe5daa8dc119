module kur.dev/images/go/lb

go 1.26.0
